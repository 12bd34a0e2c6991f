package main

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestUsageListsEveryCommand checks that both the usage aaids prints and the
// command's documentation (go doc) list every command, so a new command is
// never hidden.
func TestUsageListsEveryCommand(t *testing.T) {
	code, out, _ := runAaids(t, "help")
	if code != exitOK {
		t.Fatalf("aaids help exits %d", code)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("aaids help does not list %s:\n%s", c.name, out)
		}
		if !strings.Contains(doc, "\taaids "+c.name+" ") {
			t.Errorf("the package documentation's usage does not list %s:\n%s", c.name, doc)
		}
		if code, _, _ := runAaids(t, "help", c.name); code != exitOK {
			t.Errorf("aaids help %s exits %d", c.name, code)
		}
	}
}
