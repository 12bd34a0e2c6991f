#!/usr/bin/env bash
# Runs the original system's per-record work in Node and the CloudTrail
# source as deployed (tools/bench/standardize) with the CPU a Lambda function
# of MEMORY_MB gets: Lambda gives a function one vCPU-second a second at
# 1,769 MB and CPU in proportion to memory, and from 128 to 3,008 MB the
# function sees two vCPUs. Here that is a CPU quota on a cgroup of the
# machine's cores, MEMORY_MB/1769 of one CPU, which all of a process's
# threads share, as a function's do: Node's collector and compiler threads,
# which run on a second core for free on an idle machine, are paid for.
#
#   tools/bench/share.sh [MEMORY_MB] [RUNS] [TARGET_MB]   (defaults: 128 MB, 3 rounds, 100 MB)
#
# At 128 MB a round takes about 25 s (the work of 1.5 s at 1/14 of a CPU).
# Needs root and a cgroup CPU controller (v1 cpu.cfs_quota_us or v2
# cpu.max), ../shared/bench and ../shared/fixtures, node (the pinned Node 24
# first on PATH), python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
memory_mb=${1:-128}
runs=${2:-3}
target_mb=${3:-100}
shared=../shared
period=100000
quota=$((memory_mb * period / 1769))

# The cgroup: v1's cpu hierarchy, or v2 with the cpu controller enabled for
# the root's children.
if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
  cg=/sys/fs/cgroup/cpu/aaids-share.$$
  mkdir "$cg"
  echo "$period" >"$cg/cpu.cfs_period_us"
  echo "$quota" >"$cg/cpu.cfs_quota_us"
elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
  cg=/sys/fs/cgroup/aaids-share.$$
  mkdir "$cg"
  echo "$quota $period" >"$cg/cpu.max"
else
  echo "share: no writable cgroup CPU controller (needs root)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rmdir "$cg" 2>/dev/null; rm -rf "$work"' EXIT
. tools/bench/batches.sh
go build -o "$work/standardize" ./tools/bench/standardize

python3 - "$records" "$runs" "$shared/bench/seed-baseline.js" "$ndjson" "$work" "$cg/cgroup.procs" "$memory_mb" "$quota" "$period" <<'PY'
import os, resource, statistics, subprocess, sys, time
records, runs, node_js, ndjson, work, procs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
memory_mb, quota, period = sys.argv[7], int(sys.argv[8]), int(sys.argv[9])
cmds = [
    ("node baseline (seed-baseline.js)", ["node", node_js, ndjson]),
    ("go source, deployed configuration", [work + "/standardize", ndjson]),
]
wall = {k: [] for k, _ in cmds}
cpu = {k: [] for k, _ in cmds}
for r in range(runs):
    for k, argv in (cmds if r % 2 == 0 else cmds[::-1]):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        # The shell moves itself into the cgroup, then becomes the command.
        subprocess.run(["sh", "-c", 'echo $$ > "$0" && exec "$@"', procs] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall[k].append(elapsed)
        cpu[k].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
w = {k: statistics.median(v) for k, v in wall.items()}
c = {k: statistics.median(v) for k, v in cpu.items()}
node = cmds[0][0]
print(f"records {records}; CPU quota {quota}/{period} ({memory_mb} MB of Lambda: {quota / period:.4f} of a CPU"
      f" over {os.cpu_count()} cores); {runs} rounds, medians")
width = max(len(k) for k, _ in cmds)
print(f"{'':{width}} {'wall':>8} {'records/s':>10} {'vs node':>8} {'cpu':>8} {'vs node':>8}")
for k, _ in cmds:
    print(f"{k:{width}} {w[k]:7.2f}s {records / w[k]:10.0f} {w[node] / w[k]:7.2f}x {c[k]:7.3f}s {c[node] / c[k]:7.2f}x")
print("goal: the deployed configuration >= 1.50x node's records per second")
PY
