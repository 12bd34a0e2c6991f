# Sourced by compare.sh and share.sh: packs $target_mb MB of the shared
# recordings into maximum-size subscription batches, one JSON line each, in
# $work/batches.ndjson ($ndjson), and sets $records to their record count.
# Needs $shared (../shared) with bench/ and fixtures/cloudtrail/.
[ -d "$shared/bench" ] && [ -d "$shared/fixtures/cloudtrail" ] || { echo "$(basename "$0"): $shared/bench and $shared/fixtures not found" >&2; exit 2; }
ndjson=$work/batches.ndjson
echo "packing ${target_mb} MB of records into maximum-size batches..." >&2
python3 "$shared/bench/make-batches.py" "$shared/fixtures/cloudtrail" "$target_mb" "$ndjson" | tee "$work/packed" >&2
records=$(awk '{print $4}' "$work/packed")
