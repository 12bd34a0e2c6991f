#!/usr/bin/env bash
# Compares the CloudTrail source's end-to-end standardization (decode,
# standardize, encode EventBridge entries) with the original system's
# per-record work in Node and with the gzip -dc floor, on the same
# maximum-size subscription batches of real records.
#
#   tools/bench/compare.sh [TARGET_MB] [RUNS]      (defaults: 100 MB, 7 runs)
#
# Needs ../shared/bench and ../shared/fixtures beside the repository, node,
# python3, gzip; uses hyperfine when installed, else repeated runs (median).
# The Go runner (tools/bench/standardize) runs as the CloudTrail source Lambda does:
# with its GC settings for 128 MB (cloudtrail.TuneGC: GOGC 400, GOMEMLIMIT
# 70% of 128 MB) and decoding each line as Handler.Invoke does
# (STANDARDIZE_ENVELOPE=encoding/json in the environment measures the
# encoding/json decoding of lambda.Start(handler.Handle) instead).
set -euo pipefail
cd "$(dirname "$0")/../.."
target_mb=${1:-100}
runs=${2:-7}
shared=../shared
[ -d "$shared/bench" ] && [ -d "$shared/fixtures/cloudtrail" ] || { echo "compare: $shared/bench and $shared/fixtures not found" >&2; exit 2; }

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

cmds=(
  "node $shared/bench/seed-baseline.js $ndjson"
  "gzip -dc $work/payloads.gz"
  "$work/standardize $ndjson"
)
names=(node gzip go)
declare -A median
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/h.json" --output=null \
    -n node "${cmds[0]}" -n gzip "${cmds[1]}" -n go "${cmds[2]}" >&2
  while read -r name m; do median[$name]=$m; done < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], r["median"])' "$work/h.json")
else
  for i in 0 1 2; do
    : > "$work/t.${names[$i]}"
    for ((r = 0; r < runs; r++)); do
      # Interleave nothing else; each command's wall time in seconds.
      /usr/bin/env time -f %e -o "$work/one" ${cmds[$i]} > /dev/null
      cat "$work/one" >> "$work/t.${names[$i]}"
    done
    median[${names[$i]}]=$(sort -n "$work/t.${names[$i]}" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  done
fi

python3 - "$records" "${median[node]}" "${median[gzip]}" "${median[go]}" <<'PY'
import sys
records, node, gz, go = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"records            {records}")
for name, t in (("node baseline", node), ("gzip -dc floor", gz), ("go source", go)):
    print(f"{name:18} {t:7.3f} s  {records / t:12,.0f} records/s")
print(f"go vs node         {node / go:5.2f}x records/s   (goal >= 1.5x)")
print(f"go vs gzip floor   {go / gz:5.2f}x the time      (goal <= 2.5x)")
PY
