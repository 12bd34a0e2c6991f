#!/usr/bin/env bash
# Compares the CloudTrail source as deployed (decode, standardize with the
# default detection preset and the denial explanation, encode EventBridge
# entries within the 256 KB limit: tools/bench/standardize) and `aaids replay
# --format json` with the original system's per-record work in Node and with
# the gzip -dc floor, on the same maximum-size subscription batches of real
# records, side by side in one run. The source without enrichers is shown
# beside them, labelled: it is not what is deployed.
#
#   tools/bench/compare.sh [TARGET_MB] [RUNS]      (defaults: 100 MB, 7 runs)
#
# Needs ../shared/bench and ../shared/fixtures beside the repository, node,
# python3, gzip and hyperfine (apt-get install hyperfine).
# The Go runner runs as the CloudTrail source Lambda does: with its GC
# settings for 128 MB (cloudtrail.TuneGC: GOGC 400, GOMEMLIMIT 70% of
# 128 MB) and decoding each line as Handler.Invoke does.
set -euo pipefail
cd "$(dirname "$0")/../.."
target_mb=${1:-100}
runs=${2:-7}
shared=../shared
[ -d "$shared/bench" ] && [ -d "$shared/fixtures/cloudtrail" ] || { echo "compare: $shared/bench and $shared/fixtures not found" >&2; exit 2; }
command -v hyperfine >/dev/null 2>&1 || { echo "compare: hyperfine not found (apt-get install hyperfine)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ndjson=$work/batches.ndjson
echo "packing ${target_mb} MB of records into maximum-size batches..." >&2
python3 "$shared/bench/make-batches.py" "$shared/fixtures/cloudtrail" "$target_mb" "$ndjson" | tee "$work/packed" >&2
records=$(awk '{print $4}' "$work/packed")

# The floor: the compressed payloads alone, inflated by gzip.
python3 - "$ndjson" "$work/payloads.gz" <<'PY'
import base64, json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "wb") as out:
    for line in src:
        if line.strip():
            out.write(base64.b64decode(json.loads(line)["awslogs"]["data"]))
PY
go build -o "$work/standardize" ./tools/bench/standardize
go build -o "$work/aaids" ./cmd/aaids

hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/h.json" --output=null \
  -n node "node $shared/bench/seed-baseline.js $ndjson" \
  -n gzip "gzip -dc $work/payloads.gz" \
  -n deployed "$work/standardize $ndjson" \
  -n replay "$work/aaids replay --format json $ndjson" \
  -n source-only "$work/standardize -config source-only $ndjson" >&2

python3 - "$records" "$work/h.json" <<'PY'
import json, sys
records = int(sys.argv[1])
res = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
# Wall time (median) is what a quiet machine shows; CPU time (user + system,
# mean) is what compares on a busy one, where wall times swing.
wall = {k: r["median"] for k, r in res.items()}
cpu = {k: r["user"] + r["system"] for k, r in res.items()}
print(f"records {records}; one hyperfine run; wall = median, cpu = mean user+system")
print(f"{'':40} {'wall':>8} {'vs node':>8} {'vs gzip':>8} {'cpu':>8} {'vs node':>8} {'vs gzip':>8}")
rows = (("node baseline (seed-baseline.js)", "node"), ("gzip -dc floor", "gzip"),
        ("go source, deployed configuration", "deployed"), ("aaids replay --format json", "replay"),
        ("go source alone (NOT deployed)", "source-only"))
for label, k in rows:
    print(f"{label:40} {wall[k]:7.3f}s {wall['node'] / wall[k]:7.2f}x {wall[k] / wall['gzip']:7.2f}x"
          f" {cpu[k]:7.3f}s {cpu['node'] / cpu[k]:7.2f}x {cpu[k] / cpu['gzip']:7.2f}x")
print("goals: deployed and replay >= 1.50x node records/s and <= 2.50x the gzip time")
PY
