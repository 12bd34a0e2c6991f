package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectionsListPack(t *testing.T) {
	code, out, _ := runCmd(t, "detections", "list", "--detections", "threats")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "root-account-usage") || !strings.Contains(out, "lambda-code-overwritten") ||
		!strings.Contains(out, "secrets-read-in-bulk") || !strings.Contains(out, "high (10 in 10m0s)") {
		t.Errorf("threats pack list:\n%s", out)
	}
	if code, _, errOut := runCmd(t, "detections", "list", "--detections", "thraets"); code != exitUsage || !strings.Contains(errOut, `"thraets"`) {
		t.Errorf("unknown pack: %d %q", code, errOut)
	}
}

func TestDetectionsCoverage(t *testing.T) {
	dir := t.TempDir()
	trail := `{"Records":[` +
		`{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2"},` +
		`{"eventSource":"ssm.amazonaws.com","eventName":"SendCommand","errorCode":"AccessDenied"},` +
		`{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}`
	if err := os.WriteFile(filepath.Join(dir, "trail.json"), []byte(trail), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "detections", "coverage", "--detections", "lambda-code-overwritten,ssm-send-command,unauthorized-api-calls,root-account-usage", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"lambda-code-overwritten  threats  low       1", "ssm-send-command         threats  medium    1",
		"unauthorized-api-calls   cis      medium    1", "root-account-usage       cis      critical  0", "(any preset)                                2 of 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("coverage lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runCmd(t, "detections", "coverage", filepath.Join(dir, "absent")); code != exitInput {
		t.Errorf("an unreadable path exits %d, want %d", code, exitInput)
	}
	if code, _, _ := runCmd(t, "detections", "coverage"); code != exitUsage {
		t.Errorf("no path exits %d, want %d", code, exitUsage)
	}
}

func TestImportSigma(t *testing.T) {
	rules := filepath.Join("..", "..", "detections", "sigma", "testdata")
	dir := t.TempDir()
	trail := `{"Records":[{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"},` +
		`{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","errorCode":"AccessDenied"}]}`
	if err := os.WriteFile(filepath.Join(dir, "trail.json"), []byte(trail), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "detections", "import-sigma", "--on", dir,
		filepath.Join(rules, "trail_stopped.yml"), filepath.Join(rules, "lambda_public.yml"), filepath.Join(rules, "keywords.yml"), filepath.Join(rules, "burst.yml"))
	if code != exitInput {
		t.Errorf("exit %d, want %d (two rules refused)", code, exitInput)
	}
	var got []sigmaPreset
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 2 || got[0].ID != "sigma-trail-stopped" || got[0].Matched == nil || *got[0].Matched != 1 || *got[1].Matched != 0 {
		t.Fatalf("converted %+v", got)
	}
	for _, want := range []string{"keywords.yml\": refused: keyword (full-text) search", "burst.yml\": refused: aggregation, correlation or timeframe",
		"converted 2 of 4 rules, refused 2; aggregation, correlation or timeframe: 1; keyword (full-text) search: 1"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}
