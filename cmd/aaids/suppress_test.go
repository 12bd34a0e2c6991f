package main

import (
	"context"
	"strings"
	"testing"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/dynalite"
)

// TestSuppressAgainstTheStateTable adds, lists and removes suppressions in a
// state table in dynalite, reached through AWS_ENDPOINT_URL_DYNAMODB.
func TestSuppressAgainstTheStateTable(t *testing.T) {
	ctx := context.Background()
	srv, err := dynalite.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	if err := srv.CreateTable(ctx, correlation.TableSchema("state")); err != nil {
		t.Fatal(err)
	}
	client := srv.Client()

	code, out, errOut := runAaids(t, "suppress", "add", "--table", "state", "--principal", "arn:aws:iam::111122223333:user/scanner",
		"--until", "2099-12-31T00:00:00Z", "--reason", "approved scanner\x1b[2J")
	if code != exitOK || !strings.HasPrefix(out, "sup-") {
		t.Fatalf("add: exit %d, %q, %s", code, out, errOut)
	}
	id := strings.TrimSpace(out)
	stored, err := correlation.NewDynamoDBStore(client, "state").Suppressions(ctx)
	if err != nil || len(stored) != 1 || stored[0].ID != id || stored[0].Principal != "arn:aws:iam::111122223333:user/scanner" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	code, out, _ = runAaids(t, "suppress", "list", "--table", "state")
	if code != exitOK || !strings.Contains(out, id) || !strings.Contains(out, "active") || strings.Contains(out, "\x1b") {
		t.Fatalf("list: exit %d:\n%q", code, out)
	}
	for _, bad := range [][]string{
		{"add", "--table", "state", "--until", "2099-12-31T00:00:00Z", "--reason", "r"},                     // nothing to match
		{"add", "--table", "state", "--principal", "p", "--until", "tomorrow", "--reason", "r"},             // bad time
		{"add", "--table", "state", "--principal", "p", "--until", "2001-01-01T00:00:00Z", "--reason", "r"}, // past
		{"add", "--table", "state", "--principal", "p", "--until", "2099-12-31T00:00:00Z"},                  // no reason
		{"add", "--principal", "p", "--until", "2099-12-31T00:00:00Z", "--reason", "r"},                     // no table
	} {
		if code, _, errOut := runAaids(t, append([]string{"suppress"}, bad...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", bad, code, exitUsage, errOut)
		}
	}
	if code, out, errOut := runAaids(t, "suppress", "remove", "--table", "state", id); code != exitOK || !strings.Contains(out, id) {
		t.Fatalf("remove: exit %d %q %s", code, out, errOut)
	}
	if code, _, errOut := runAaids(t, "suppress", "remove", "--table", "state", id); code != exitInput || !strings.Contains(errOut, "not found") {
		t.Fatalf("remove again: exit %d %s", code, errOut)
	}
}
