package detections

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/DETECTIONS.md")

// docPath is the generated reference of the presets.
var docPath = filepath.Join("..", "docs", "DETECTIONS.md")

// TestDetectionsDoc fails when docs/DETECTIONS.md is not what the presets
// and the recorded Sigma conversion generate; -update rewrites it.
func TestDetectionsDoc(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("sigma", "testdata", "sigmahq-summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sigma SigmaSummary
	if err := json.Unmarshal(data, &sigma); err != nil {
		t.Fatal(err)
	}
	want := Markdown(All(), sigma)
	for _, must := range []string{"| Defense Evasion | T1562.008", "`aws.persistence.iam-backdoor-role`", "converted**", "### lambda-code-overwritten"} {
		if !bytes.Contains(want, []byte(must)) {
			t.Errorf("the generated document lacks %q", must)
		}
	}
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v: generate it with go test ./detections -run TestDetectionsDoc -update", err)
	}
	if !bytes.Equal(got, want) {
		line := 1 + strings.Count(string(want[:firstDiff(got, want)]), "\n")
		t.Errorf("%s is out of date (first difference at line %d): go test ./detections -run TestDetectionsDoc -update", docPath, line)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
