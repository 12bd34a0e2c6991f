package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}

func TestFilterCheck(t *testing.T) {
	tests := []struct {
		pattern  string
		code     int
		out, err string
	}{
		{`{($.errorCode="*UnauthorizedOperation")||($.errorCode="AccessDenied*")}`, exitOK,
			"{ $.errorCode = \"*UnauthorizedOperation\" || $.errorCode = \"AccessDenied*\" }\n", ""},
		{`{ $.eventName = }`, exitInput, "", "aaids filter check: column 17: expected a value after \"=\"\n"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "filter", "check", tt.pattern)
		if code != tt.code || out != tt.out || errOut != tt.err {
			t.Errorf("filter check %q = %d, %q, %q; want %d, %q, %q", tt.pattern, code, out, errOut, tt.code, tt.out, tt.err)
		}
	}
}

func TestFilterTest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("trail.json", `{"Records":[{"eventName":"GetObject","errorCode":"AccessDenied"},{"eventName":"ListBuckets"}]}`)
	write("app.log", "[ERROR 401] UNAUTHORIZED\n{\"errorCode\":\"Client.UnauthorizedOperation\",\n")
	write("batch.ndjson", `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1,"message":"{\"errorCode\":\"AccessDeniedException\"}"}]}`+"\n")

	code, out, errOut := runCmd(t, "filter", "test", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`, dir)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := "{\"errorCode\":\"AccessDeniedException\"}\n{\"eventName\":\"GetObject\",\"errorCode\":\"AccessDenied\"}\n"
	if out != want || errOut != "matched 2 of 5\n" {
		t.Errorf("stdout %q, stderr %q; want %q and matched 2 of 5", out, errOut, want)
	}

	code, out, errOut = runCmd(t, "filter", "test", `UNAUTHORIZED`, dir)
	if code != exitOK || out != "[ERROR 401] UNAUTHORIZED\n" || errOut != "matched 1 of 5\n" {
		t.Errorf("terms: %d, %q, %q", code, out, errOut)
	}

	if code, _, _ := runCmd(t, "filter", "test", `{ $.a = }`, dir); code != exitUsage {
		t.Errorf("a malformed pattern exits %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCmd(t, "filter", "frobnicate"); code != exitUsage {
		t.Errorf("an unknown subcommand exits %d, want %d", code, exitUsage)
	}
}

func TestDetectionsList(t *testing.T) {
	code, out, _ := runCmd(t, "detections", "list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"unauthorized-api-calls (default)", "root-account-usage", "critical", "CIS AWS Foundations Benchmark v1.4 4.3 (CloudWatch.1)", "self-lambda-changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runCmd(t, "detections"); code != exitUsage {
		t.Errorf("no subcommand exits %d, want %d", code, exitUsage)
	}
}
