#!/usr/bin/env bash
# Streaming benchmark of the disk stack (issue: inspect --files on a 20 GiB sparse image holding
# 200k files stays under 256 MiB RSS). Builds the image with the real tools, then prints, side by
# side in one run, the wall time and peak RSS of `snapwatch inspect --files` and of The Sleuth
# Kit's `fls -r` on the same image.
# Usage: bench/inspect.sh [FILES] [SIZE_GIB]   (defaults 200000 and 20; needs e2fsprogs, fdisk, sleuthkit)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-200000}
gib=${2:-20}
export PATH=$PATH:/usr/sbin:/sbin
work=${BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

go build -o "$work/snapwatch" ./cmd/snapwatch

echo "building a ${gib} GiB sparse GPT disk with an ext4 partition holding $files files..." >&2
python3 - "$work/tree" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = 1000
for i in range(n):
    d = os.path.join(root, "srv", "d%04d" % (i // per))
    if i % per == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file-%06d.conf" % i), "w") as f:
        f.write("key%d = value-%d\n" % (i, i * 7919))
PY
part=$work/part.img
truncate -s $((gib * 1024 - 2))M "$part"
mke2fs -q -F -t ext4 -d "$work/tree" "$part"
disk=$work/disk.raw
truncate -s ${gib}G "$disk"
printf 'label: gpt\nsize=%dMiB, type=L, name="root"\n' $((gib * 1024 - 2)) | sfdisk --quiet "$disk"
dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$part"; rm -rf "$work/tree"

measure() { # slug, label, command...: prints label, wall seconds, peak RSS MiB, output lines
  local slug=$1 name=$2; shift 2
  local out=$work/$slug.out
  /usr/bin/time -f '%e %M' -o "$work/$slug.time" "$@" >"$out"
  read -r secs kib <"$work/$slug.time"
  printf '%-34s %8.2f s %8.1f MiB %9d lines\n' "$name" "$secs" "$(awk -v k="$kib" 'BEGIN{print k/1024}')" "$(wc -l <"$out")"
}
echo
printf '%-34s %10s %12s %15s\n' tool wall "peak RSS" output
tsk=$(fls -V | awk '{print $NF}')
measure table "snapwatch inspect --files" "$work/snapwatch" inspect --files "$disk"
measure json "snapwatch inspect --files --format json" "$work/snapwatch" inspect --files --format json "$disk"
measure fls "fls -r -o 2048 (TSK $tsk)" fls -r -o 2048 "$disk"
echo
echo "regular files listed: snapwatch $(grep -c '"mode":"-' "$work/json.out"), fls $(grep -c 'r/r' "$work/fls.out")"
