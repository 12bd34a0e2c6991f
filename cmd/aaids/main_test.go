package main

import (
	"go/parser"
	"go/token"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/activity-aware/ids/sources/cloudtrail"
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

// TestTuneGC checks the collector settings aaids runs with: the source
// function's GC percent and a 3 GB function's memory limit, unless GOGC or GOMEMLIMIT are set,
// which it leaves to the runtime. The process's settings are restored.
func TestTuneGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	unset := func(name string) {
		t.Setenv(name, "") // restored after the test
		os.Unsetenv(name)
	}
	unset("GOGC")
	unset("GOMEMLIMIT")
	tuneGC()
	if got := debug.SetGCPercent(100); got != cloudtrail.GCPercent {
		t.Errorf("GC percent %d, want %d", got, cloudtrail.GCPercent)
	}
	mb := gcMemoryMB // as TuneGC computes it, at run time
	if got, want := debug.SetMemoryLimit(-1), int64(float64(mb<<20)*cloudtrail.MemoryLimitShare); got != want {
		t.Errorf("memory limit %d, want %d", got, want)
	}

	debug.SetMemoryLimit(limit)
	t.Setenv("GOGC", "50") // as the runtime read it at start
	t.Setenv("GOMEMLIMIT", "64MiB")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, GC percent %d, want it untouched (100)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("with GOMEMLIMIT set, memory limit %d, want it untouched (%d)", got, limit)
	}
}
