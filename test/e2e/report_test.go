//go:build e2ereport

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// reportCommand regenerates docs/RELIABILITY.md.
const reportCommand = `PATH="$PWD/node_modules/.bin:$PATH" go test -tags e2ereport -run TestReliabilityReport -timeout 20m ./test/e2e`

// throughputRecords is how many recorded records the throughput run sends.
const throughputRecords = 10000

// processStats collects, per function, the INIT durations the emulator
// reported and the peak resident memory of its runtime process.
type processStats struct {
	mu    sync.Mutex
	inits map[string][]time.Duration
	peak  map[string]int64
}

func (s *processStats) observe(name string, f *lambdaemu.Function) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inits[name] = append(s.inits[name], f.InitDurations()...)
	if rss, err := f.PeakRSS(); err == nil && rss > s.peak[name] {
		s.peak[name] = rss
	}
}

// TestReliabilityReport runs the scenarios and the throughput run on
// recorded data, and writes docs/RELIABILITY.md with the measured figures.
func TestReliabilityReport(t *testing.T) {
	stats := &processStats{inits: map[string][]time.Duration{}, peak: map[string]int64{}}
	observe = stats.observe
	defer func() { observe = nil }()

	rows := make([]*row, len(scenarios))
	t.Run("scenarios", func(t *testing.T) {
		for i, s := range scenarios {
			rows[i] = &row{num: s.num, name: s.name, inputs: s.inputs}
			t.Run(fmt.Sprintf("%02d %s", s.num, s.name), func(t *testing.T) {
				t.Parallel()
				s.run(t, rows[i])
			})
		}
	})
	if t.Failed() {
		t.Fatal("a scenario failed: the report is not written")
	}

	var tp throughput
	t.Run("throughput", func(t *testing.T) { tp = measureThroughput(t) })
	if t.Failed() {
		t.Fatal("the throughput run failed: the report is not written")
	}

	doc := render(rows, tp, stats)
	path := filepath.Join(repoRoot(), "docs", "RELIABILITY.md")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// throughput is the result of the run on recorded data.
type throughput struct {
	recorded, records, payloads, published, posted, lost int
	decodedBytes                                         int
	sourceTime                                           time.Duration
	latencies                                            []time.Duration
}

func measureThroughput(t *testing.T) throughput {
	recorded := fixtureRecords(t)
	// The recorded records, repeated to 10,000; repeats get eventIDs of
	// their own so each stays one activity.
	records := make([]string, 0, throughputRecords)
	for i := 0; len(records) < throughputRecords; i++ {
		records = append(records, recorded[i%len(recorded)])
	}
	records = distinctIDs(t, records, throughputRecords)

	p := newPipeline(t, options{})
	var tp throughput
	tp.recorded, tp.records = len(recorded), len(records)
	payloads := subscriptiontest.Pack(records, 1<<20)
	tp.payloads = len(payloads)
	encoded := make([][]byte, len(payloads))
	for i, b := range payloads {
		encoded[i] = subscription(b)
		for _, m := range b {
			tp.decodedBytes += len(m)
		}
	}
	start := time.Now()
	for i, payload := range encoded {
		requireOK(t, "source", p.invokeSource(payload, len(payloads[i])))
	}
	tp.sourceTime = time.Since(start)

	for _, inv := range p.deliver(0) {
		requireOK(t, "destination", inv)
		tp.latencies = append(tp.latencies, inv.res.Duration)
	}
	tl := p.tally()
	tp.published, tp.posted, tp.lost = tl.published, tl.posted, tl.lost
	if tp.published != throughputRecords || tp.posted != throughputRecords {
		t.Errorf("published %d, posted %d; want %d each", tp.published, tp.posted, throughputRecords)
	}
	return tp
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func render(rows []*row, tp throughput, stats *processStats) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# Reliability\n\n")
	w("What the whole path does when AWS or Slack misbehave, measured end to end: both Lambda\n")
	w("functions compiled and run under the AWS Lambda Runtime Interface Emulator with the\n")
	w("environment, timeout and memory of the synthesized CDK app, against local EventBridge,\n")
	w("Secrets Manager and Slack endpoints that speak the real protocols, check what they\n")
	w("receive, and fail on demand. Entries the source publishes reach the destination in the\n")
	w("EventBridge envelope, only when they match the rule's pattern from the template.\n\n")
	w("Regenerate this file (needs `../shared/fixtures` for scenario 3 and the throughput run):\n\n")
	w("```sh\n%s\n```\n\n", reportCommand)
	w("The scenarios also run, with the same expectations, in `go test ./test/e2e`.\n\n")
	w("Measured %s on %s, %d CPUs, %s/%s, %s.\n\n", time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())

	w("## Scenarios\n\n")
	w("| # | scenario | inputs | published | posted | lost | retries | outcome |\n")
	w("| --- | --- | --- | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range rows {
		w("| %d | %s | %s | %d | %d | %d | %s | %s |\n", r.num, cell(r.name), cell(r.inputs),
			r.tally.published, r.tally.posted, r.tally.lost, cell(r.tally.retries), cell(r.outcome))
	}
	w("\n")
	w("- **published**: activities the local EventBridge accepted; **posted**: messages the local Slack accepted.\n")
	w("- **lost**: inputs that ended neither delivered nor in a failed invocation. A failed invocation\n")
	w("  is not a loss: Lambda retries it (twice, for asynchronous invocations) and then keeps it in the\n")
	w("  function's on-failure SQS queue. Every scenario also checks that no activity is published or\n")
	w("  posted twice, that every message is within Slack's limits and carries no live mention or link.\n")
	w("- **retries**: attempts beyond the first — PutEvents entries re-sent after a partial failure and\n")
	w("  requests the SDK retried, Slack posts retried, and invocations repeated as Lambda's retry.\n")
	w("- Two template values are changed for a scenario, each for a stated reason: scenario 11 runs the\n")
	w("  destination with a 3 s timeout instead of 30 s (to keep CI fast; the behaviour does not depend\n")
	w("  on it), scenario 13 caches the secret for 5 s instead of 5 minutes (to watch the rotation land).\n")
	w("- Scenario 15 runs the path the template deploys with the notification policy on: the state table in\n")
	w("  dynalite, the rules' two pacing queues each read by its own execution environment in batches\n")
	w("  (failed messages reported alone and redelivered), the minute sweep invoked after the window. It\n")
	w("  sets the notification window to 20 s instead of 10 minutes (so the digest comes within the test)\n")
	w("  and adds the self-trail-or-log-group-stopped preset to the source's detections (so StopLogging is\n")
	w("  critical). **lost** there counts activities neither posted nor counted in a digest. Scenarios 1–14\n")
	w("  run the destination without the state table (every activity posted), as their expectations are\n")
	w("  per activity.\n")
	w("- Scenario 18 runs the Slack destination in app mode (a bot token and a channel id in the secret;\n")
	w("  `SLACK_API_URL` points the compiled function at the local Slack's Web API, which it honours only\n")
	w("  on loopback with the local-testing setting) with the notification policy on, the state table in\n")
	w("  dynalite, one execution environment taking the pacing queue in the mapping's batches, a 15 s\n")
	w("  notification window and the self-trail-or-log-group-stopped preset as in scenario 15. **posted**\n")
	w("  counts every message chat.postMessage accepted, replies and the digest in the thread included.\n\n")

	w("## Throughput and latency\n\n")
	sorted := slices.Clone(tp.latencies)
	slices.Sort(sorted)
	rps := float64(tp.records) / tp.sourceTime.Seconds()
	mbps := float64(tp.decodedBytes) / (1 << 20) / tp.sourceTime.Seconds()
	w("| figure | value |\n| --- | ---: |\n")
	w("| source: records through the emulator (%d real records from ../shared/fixtures, repeated, %d payloads of ≤ 1 MB) | %d |\n", tp.recorded, tp.payloads, tp.records)
	w("| source: end-to-end time (decode, standardize, explain, PutEvents to the local bus) | %.2f s |\n", tp.sourceTime.Seconds())
	w("| source: throughput | **%.0f records/s** (%.1f MB/s of decoded records) |\n", rps, mbps)
	w("| published / posted / lost | %d / %d / %d |\n", tp.published, tp.posted, tp.lost)
	w("| destination: per-message latency, p50 | %s |\n", ms(percentile(sorted, 0.50)))
	w("| destination: per-message latency, p95 | %s |\n", ms(percentile(sorted, 0.95)))
	w("| destination: per-message latency, p99 | %s |\n", ms(percentile(sorted, 0.99)))
	w("| destination: per-message latency, max | %s |\n", ms(percentile(sorted, 1)))
	w("\nThe destination's latency is one invocation through the emulator's invoke API: decode the\n")
	w("envelope, render, read the (cached) webhook secret, post to the local Slack.\n\n")

	w("## INIT duration and peak memory\n\n")
	w("INIT is the emulator's `INIT REPORT` for each start of the function (every scenario and the\n")
	w("throughput run start fresh emulators). Peak memory is the runtime process's VmHWM, read from\n")
	w("/proc before it stops (the emulator's REPORT line repeats the memory size instead), the\n")
	w("largest over all starts. The template gives each function 128 MB. The source sizes its\n")
	w("collector for that (cloudtrail.TuneGC: GOGC 400 and a soft memory limit of 70%% of the function's\n")
	w("memory), so its heap is allowed to grow toward that limit between collections: the figure is\n")
	w("mostly garbage left to collect late, not live data (standardizing maximum batches peaks at\n")
	w("9–14 MB of heap: TestMaxBatchPeakHeap in sources/cloudtrail).\n\n")
	w("| function | starts | INIT median | INIT max | peak memory |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, name := range []string{"CloudTrailSource", "SlackDestination"} {
		inits := slices.Clone(stats.inits[name])
		slices.Sort(inits)
		w("| %s | %d | %s | %s | %s |\n", name, len(inits), ms(percentile(inits, 0.5)), ms(percentile(inits, 1)), mib(stats.peak[name]))
	}
	return b.Bytes()
}
