#!/usr/bin/env bash
# Compares the CloudTrail source as deployed (decode, standardize with the
# default detection preset and the denial explanation, encode EventBridge
# entries within the 256 KB limit: tools/bench/standardize) and `aaids replay
# --format json` with the original system's per-record work in Node and with
# the gzip -dc floor, on the same maximum-size subscription batches of real
# records, side by side in one run. The source without enrichers is shown
# beside them, labelled: it is not what is deployed. The PutEvents line is the
# deployed function's whole per-batch work, publishing included: each batch
# through cloudtrail.Handler.Invoke, its PutEvents requests serialized,
# signed and sent by the SDK (eventbus.NewClient) to a local sink. Replay
# also reads the same records as CloudTrail log files ({"Records":[…]},
# gzip-compressed, one per batch), its other common input.
#
#   tools/bench/compare.sh [TARGET_MB] [RUNS] [BEFORE]   (defaults: 100 MB, 7 rounds)
#
# With BEFORE (a commit), the deployed configuration, both replays and the
# publishing line (when that commit's standardize has -publish) built from
# that commit run beside the current ones, in the same rounds, the two builds
# alternately first, for a before/after measured side by side.
#
# Needs ../shared/bench and ../shared/fixtures beside the repository, node,
# python3 and gzip.
# The Go runner runs as the CloudTrail source Lambda does: with its GC
# settings for 128 MB (cloudtrail.TuneGC: GOGC 400, GOMEMLIMIT 70% of
# 128 MB), decoding each line as Handler.Invoke does, in the memory of the
# line before (cloudtrail.Batch).
set -euo pipefail
cd "$(dirname "$0")/../.."
target_mb=${1:-100}
runs=${2:-7}
before=${3:-}
shared=../shared
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tools/bench/batches.sh

# The floor: the compressed payloads alone, inflated by gzip. And the same
# records as CloudTrail writes them to S3, a gzip-compressed
# {"Records":[…]} log file per batch, for replay's other common input.
mkdir "$work/trail"
python3 - "$ndjson" "$work/payloads.gz" "$work/trail" <<'PY'
import base64, gzip, json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "wb") as out:
    for i, line in enumerate(l for l in src if l.strip()):
        payload = base64.b64decode(json.loads(line)["awslogs"]["data"])
        out.write(payload)
        messages = [e["message"] for e in json.loads(gzip.decompress(payload))["logEvents"]]
        with gzip.open(f"{sys.argv[3]}/{i:04d}.json.gz", "wt", encoding="utf-8") as trail:
            trail.write('{"Records":[' + ",".join(messages) + "]}")
PY
go build -o "$work/standardize" ./tools/bench/standardize
go build -o "$work/aaids" ./cmd/aaids
if [ -n "$before" ]; then
  mkdir "$work/before"
  git archive "$before" | tar -x -C "$work/before"
  (cd "$work/before" && go build -o "$work/standardize.before" ./tools/bench/standardize && go build -o "$work/aaids.before" ./cmd/aaids)
fi

# Rounds: every command once per round, in turn, so that a change in the
# machine's load falls on all of them alike; the first round warms caches
# and is not counted. CPU time is the process's user + system time
# (getrusage of the child), wall time the elapsed time; medians of RUNS.
python3 - "$records" "$runs" "$shared/bench/seed-baseline.js" "$ndjson" "$work" "$before" <<'PY'
import os, resource, shutil, statistics, subprocess, sys, time
records, runs, node_js, ndjson, work, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
cmds = [
    ("node baseline (seed-baseline.js)", ["node", node_js, ndjson]),
    ("gzip -dc floor", ["gzip", "-dc", work + "/payloads.gz"]),
    ("go source, deployed configuration", [work + "/standardize", ndjson]),
    ("aaids replay --format json", [work + "/aaids", "replay", "--format", "json", ndjson]),
    ("aaids replay --format json, CloudTrail log files", [work + "/aaids", "replay", "--format", "json", work + "/trail"]),
    ("go source alone (NOT deployed)", [work + "/standardize", "-config", "source-only", ndjson]),
    ("deployed + PutEvents via the SDK to a local sink", [work + "/standardize", "-publish", ndjson]),
]
# The function has at most one vCPU's time (Lambda gives one vCPU-second a
# second at 1,769 MB, in proportion below; tools/bench/share.sh runs the
# share of 128 MB): there the threads Node runs beside its main one (its
# collector, its compiler) are paid for in wall time too. Node and the
# deployed configuration again, pinned to one core, the deployed one's
# ratios against pinned Node.
one_core = os.cpu_count() > 1 and shutil.which("taskset")
if one_core:
    pin = ["taskset", "-c", str(max(os.sched_getaffinity(0)))]
    cmds += [("node baseline, one core", pin + cmds[0][1]), ("go source, deployed configuration, one core", pin + cmds[2][1])]
# The sink of -publish runs in a process of its own, started here and never
# waited for within a round, so its CPU is not the runner's.
sink = subprocess.Popen([work + "/standardize", "-sink"], stdout=subprocess.PIPE, text=True)
os.environ.update(AWS_ENDPOINT_URL_EVENTBRIDGE=sink.stdout.readline().strip(), AWS_REGION="us-east-1",
                  AWS_ACCESS_KEY_ID="AKIDLOCAL", AWS_SECRET_ACCESS_KEY="local", AWS_SESSION_TOKEN="")
pairs = []
if base:
    # The deployed configuration, replay and, when the BEFORE build has it,
    # the publishing line, each followed by its BEFORE build.
    usage = subprocess.run([work + "/standardize.before", "-h"], capture_output=True, text=True).stderr
    paired = [cmds[2][0], cmds[3][0], cmds[4][0]] + ([cmds[6][0]] if "-publish" in usage else [])
    with_before = []
    for k, argv in cmds:
        with_before.append((k, argv))
        if k in paired:
            old = (k + ", BEFORE " + base, [work + "/" + os.path.basename(argv[0]) + ".before"] + argv[1:])
            pairs.append((k, old[0]))
            with_before.append(old)
    cmds = with_before
wall = {k: [] for k, _ in cmds}
cpu = {k: [] for k, _ in cmds}
load = os.getloadavg()[0]
for r in range(runs + 1):
    order = list(cmds)
    if r % 2:  # the build measured first alternates
        for new, old in pairs:
            i, j = [k for k, _ in order].index(new), [k for k, _ in order].index(old)
            order[i], order[j] = order[j], order[i]
    for k, argv in order:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r > 0:
            wall[k].append(elapsed)
            cpu[k].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
sink.kill()
w = {k: statistics.median(v) for k, v in wall.items()}
c = {k: statistics.median(v) for k, v in cpu.items()}
node, gz = cmds[0][0], cmds[1][0]
print(f"records {records}; {runs} rounds (each command once per round, after one warm-up round); medians;"
      f" load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
width = max(len(k) for k, _ in cmds)
print(f"{'':{width}} {'wall':>8} {'vs node':>8} {'vs gzip':>8} {'cpu':>8} {'vs node':>8} {'vs gzip':>8} {'cpu min-max':>14}")
for k, _ in cmds:
    n = "node baseline, one core" if k.endswith(", one core") else node
    print(f"{k:{width}} {w[k]:7.3f}s {w[n] / w[k]:7.2f}x {w[k] / w[gz]:7.2f}x"
          f" {c[k]:7.3f}s {c[n] / c[k]:7.2f}x {c[k] / c[gz]:7.2f}x {min(cpu[k]):6.3f}-{max(cpu[k]):.3f}s")
for new, old in pairs:
    faster = sum(1 for a, b in zip(cpu[old], cpu[new]) if b < a)
    sooner = sum(1 for a, b in zip(wall[old], wall[new]) if b < a)
    print(f"{new}: CPU {100 * (c[new] / c[old] - 1):+.1f}% against {base}, less in {faster} of {runs} rounds;"
          f" wall {100 * (w[new] / w[old] - 1):+.1f}%, less in {sooner} of {runs}")
print("goals: deployed and replay >= 1.50x node records/s and <= 2.50x the gzip time")
print("(one core: pinned with taskset, each against Node pinned alike; the function has at most one vCPU's time)")
print("(aaids replay standardizes batches ahead on the other cores, so its wall time is below its CPU time;"
      " the function, one invocation at a time, works on one)")
print("(the Node baseline publishes nothing; the PutEvents line adds what the function does beyond the entries:"
      " the SDK serializing, signing and sending each PutEvents request)")
PY
