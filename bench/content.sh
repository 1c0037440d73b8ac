#!/usr/bin/env bash
# Content-scan benchmark (issue "Content scan"): builds a standard image — a Debian root tree of
# about 1.5 GB (this machine's /usr, /etc) with planted secrets, as ext4 and XFS images — installs
# the peer tools into a temp dir (go install of gitleaks and trivy), and prints side by side in
# one run: wall time, CPU time, peak RSS and recall of `snapwatch scan`, `trivy vm --scanners
# secret` on the same images, and `gitleaks dir` on the extracted tree.
# Usage: bench/content.sh [SIZE_MB]   (default 1500; needs e2fsprogs, xfsprogs, openssl, ssh-keygen, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1500}
export PATH=$PATH:/usr/sbin:/sbin
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
GITLEAKS_VERSION=${GITLEAKS_VERSION:-v8.30.0}
TRIVY_VERSION=${TRIVY_VERSION:-latest}

echo "== building snapwatch and installing peers into $work/bin" >&2
go build -o "$work/bin/snapwatch" ./cmd/snapwatch
[ -x "$work/bin/gitleaks" ] || GOBIN=$work/bin go install "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION"
# Trivy ≥ 0.74 uses encoding/json/v2, which Go 1.26 ships behind GOEXPERIMENT=jsonv2.
[ -x "$work/bin/trivy" ] || GOEXPERIMENT=jsonv2 GOBIN=$work/bin go install "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION"

tree=$work/tree
if [ ! -d "$tree" ]; then
  echo "== copying ~${size_mb} MB of /usr and /etc into $tree" >&2
  python3 bench/plant.py copy "$tree" "$size_mb"
fi
python3 bench/plant.py plant "$tree" >"$work/plants.txt"
plants=$(wc -l <"$work/plants.txt")
bytes=$(du -sb "$tree" | cut -f1)
files=$(find "$tree" -type f | wc -l)
echo "== tree: $files files, $((bytes / 1000000)) MB, $plants planted secrets" >&2

img_mb=$(( bytes / 1000000 * 13 / 10 + 300 ))
if [ ! -f "$work/ext4.img" ]; then
  truncate -s ${img_mb}M "$work/ext4.img"
  mke2fs -q -F -t ext4 -d "$tree" "$work/ext4.img"
fi
if [ ! -f "$work/xfs.img" ]; then
  truncate -s ${img_mb}M "$work/xfs.img"
  python3 bench/plant.py proto "$tree" >"$work/proto"
  mkfs.xfs -q -f -p "$work/proto" "$work/xfs.img"
fi

measure() { # label, findings-json, command...: runs it, prints wall, cpu, rss, recall
  local label=$1 out=$2; shift 2
  local tfile=$work/time.$$
  /usr/bin/time -f '%e %U %S %M' -o "$tfile" "$@" >/dev/null 2>"$work/last.err" || true
  read -r wall user sys kib <"$tfile"
  local recall
  recall=$(python3 bench/plant.py recall "$work/plants.txt" "$out")
  printf '%-44s %8.1f s %8.1f s %9.0f MiB   %s\n' "$label" "$wall" "$(echo "$user $sys" | awk '{print $1+$2}')" \
    "$(awk -v k="$kib" 'BEGIN{print k/1024}')" "$recall"
}

echo
printf '%-44s %10s %10s %13s   %s\n' tool wall cpu "peak RSS" "recall (planted found)"
for fs in ext4 xfs; do
  measure "snapwatch scan ($fs image)" "$work/sw-$fs.json" \
    "$work/bin/snapwatch" scan --format json -o "$work/sw-$fs.json" "$work/$fs.img"
  measure "trivy vm --scanners secret ($fs image)" "$work/trivy-$fs.json" \
    "$work/bin/trivy" vm --scanners secret --format json --output "$work/trivy-$fs.json" \
    --cache-dir "$work/trivy-cache" --skip-db-update --skip-java-db-update --timeout 60m "$work/$fs.img"
done
measure "gitleaks dir (extracted tree)" "$work/gitleaks.json" \
  "$work/bin/gitleaks" dir --no-banner --report-format json --report-path "$work/gitleaks.json" --exit-code 0 "$tree"
echo
python3 - "$work/sw-ext4.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print(f"snapwatch (ext4): {s['files_scanned']} files, {s['bytes_scanned']/1e6:.0f} MB of content scanned, "
      f"{s['mb_per_second']:.0f} MB/s wall; skipped: {s.get('skipped', {})}")
PY
python3 bench/plant.py extras "$work/plants.txt" "$work/sw-ext4.json" >"$work/extras.txt"
echo "precision: $(wc -l <"$work/extras.txt") snapwatch findings outside the planted files over $files files" \
     "($(awk -v n="$(wc -l <"$work/extras.txt")" -v f="$files" 'BEGIN{printf "%.2f", n*10000/f}') per 10,000 files; list: $work/extras.txt)"
echo "versions: $("$work/bin/trivy" --version | head -1); gitleaks $("$work/bin/gitleaks" version)"
