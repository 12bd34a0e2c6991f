package sigma

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/activity-aware/ids/detections"
)

var (
	sigmaHQ = flag.String("sigmahq", "", "a directory of SigmaHQ's rules/cloud/aws/cloudtrail/*.yml to convert into testdata/sigmahq-summary.json")
	update  = flag.Bool("update", false, "with -sigmahq: rewrite testdata/sigmahq-summary.json")
)

// summaryFile records the conversion of SigmaHQ's CloudTrail rules: counts and
// each rule's outcome (its file name and the reason when refused), no rule
// text (the rules are under the Detection Rule License and not vendored).
const summaryFile = "testdata/sigmahq-summary.json"

type corpusSummary struct {
	detections.SigmaSummary
	Outcomes map[string]string `json:"outcomes"` // rule file → "converted" or the refusal reason
}

// TestSigmaHQSummary checks the recorded conversion of SigmaHQ's rules adds
// up; given -sigmahq DIR it converts the rules in DIR again and compares (or,
// with -update, rewrites the record).
func TestSigmaHQSummary(t *testing.T) {
	var rec corpusSummary
	data, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, n := range rec.Refused {
		refused += n
	}
	if rec.Converted+refused != rec.Rules || len(rec.Outcomes) != rec.Rules {
		t.Errorf("recorded summary does not add up: %d converted + %d refused, %d outcomes, %d rules", rec.Converted, refused, len(rec.Outcomes), rec.Rules)
	}
	if *sigmaHQ == "" {
		t.Logf("recorded: %d of %d converted (%s)", rec.Converted, rec.Rules, rec.Corpus)
		return
	}
	files, err := filepath.Glob(filepath.Join(*sigmaHQ, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules in %s: %v", *sigmaHQ, err)
	}
	got := corpusSummary{SigmaSummary: rec.SigmaSummary, Outcomes: map[string]string{}}
	got.Rules, got.Converted, got.Refused = len(files), 0, map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Convert(f, data)
		var e *Error
		switch {
		case err == nil:
			got.Converted++
			got.Outcomes[filepath.Base(f)] = "converted"
		case errors.As(err, &e):
			got.Refused[e.Reason]++
			got.Outcomes[filepath.Base(f)] = e.Reason
		default:
			t.Fatal(err)
		}
	}
	out, _ := json.MarshalIndent(got, "", "  ")
	if *update {
		if err := os.WriteFile(summaryFile, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(out)+"\n" != string(data) {
		t.Errorf("the conversion of %s differs from %s; rerun with -update", *sigmaHQ, summaryFile)
	}
}
