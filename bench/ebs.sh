#!/bin/sh
# EBS direct reads against cloudsim: a 30 GiB snapshot with 6 GiB written, at a 1,000
# GetSnapshotBlock/s quota and 10 ms latency, read with prefetch and one block at a time, then an
# incremental rescan after 1% of the blocks changed. Needs about 12 GiB free in $TMPDIR.
# Flags go to the program: bench/ebs.sh -seq-blocks 2000 (time the sequential reader on fewer blocks).
# With EBS_SCAN_IMAGE=disk.img, also a whole content scan of that image served as a snapshot
# (bench/ebsscan), beside a scan of the same image from local disk.
set -eu
cd "$(dirname "$0")/.."
go run ./bench/ebsbench "$@"
if [ -n "${EBS_SCAN_IMAGE:-}" ]; then
  go run ./bench/ebsscan -image "$EBS_SCAN_IMAGE"
fi
