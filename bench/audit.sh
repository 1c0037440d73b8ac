#!/bin/sh
# `snapwatch audit aws` against cloudsim: 100k EBS snapshots, 10k AMIs and 5k RDS snapshots over
# 5 accounts × 17 regions, 50 ms latency, 100 requests/s per account+region+service. Prints wall
# time, API calls made against the minimum the audit needs, throttled attempts and peak RSS.
# Flags go to the program: bench/audit.sh -snapshots 10000 -throttle 0
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/auditbench "$@"
