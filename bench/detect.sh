#!/usr/bin/env bash
# Detection throughput benchmark (issue "Audit-log detection"): generates a CloudTrail corpus of
# SIZE GiB of JSON (realistic event mix, gzipped S3-layout files, digests, injected leaks with
# ground truth), runs `snapwatch detect` over it, and prints records/s, peak RSS and the alerts
# against the injected leaks. Target: ≥ 300k records/s on a 2-core machine.
# Usage: bench/detect.sh [SIZE_GIB]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-5}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT

go build -o "$work/snapwatch" ./cmd/snapwatch
if [ ! -f "$work/corpus/manifest.json" ]; then
  echo "generating a ${gib} GiB CloudTrail corpus in $work/corpus ..." >&2
  go run ./internal/event/internal/gencorpus -out "$work/corpus" -gb "$gib"
fi
files=$(find "$work/corpus" -name '*.json.gz' | wc -l)
gz=$(du -sb "$work/corpus" | cut -f1)

/usr/bin/time -f '%e %U %S %M' -o "$work/time" \
  "$work/snapwatch" detect --format json -o "$work/alerts.json" "$work/corpus/AWSLogs" || true
read -r wall user sys kib < <(tail -1 "$work/time")
python3 - "$work/alerts.json" "$work/corpus" "$wall" "$user" "$sys" "$kib" "$files" "$gz" <<'PY'
import json, sys, os, glob
alerts, corpus, wall, user, sys_, kib, files, gz = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
doc = json.load(open(alerts))
st = doc["stats"]
recs = st["records"]
truth = []
for p in glob.glob(os.path.join(corpus, "**", "leaks.json"), recursive=True):
    truth += json.load(open(p)) if isinstance(json.load(open(p)), list) else json.load(open(p)).get("leaks", [])
truth_ids = {t.get("event_id") or t.get("eventID") or t.get("id") for t in truth}
cited = set()
for f in doc["findings"]:
    for r in (f.get("evidence") or {}).get("records", []):
        cited.add(r)
found = len(truth_ids & cited)
print(f"corpus: {files} gzipped files, {gz/2**30:.2f} GiB compressed, {st['bytes']/2**30:.2f} GiB JSON, {recs:,} records")
print(f"snapwatch detect: {wall:.1f} s wall, {user+sys_:.1f} s CPU, peak RSS {kib/1024:.0f} MiB")
print(f"throughput: {recs/wall:,.0f} records/s wall ({recs/(user+sys_):,.0f} per CPU-second), {st['bytes']/wall/1e6:.0f} MB/s of JSON")
print(f"alerts: {len(doc['findings'])}; injected leaks cited: {found}/{len(truth_ids)}; bad records {st['bad']}; errors {len(doc['errors'])}")
PY
