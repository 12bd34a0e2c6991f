package layout

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/activity-aware/ids"

// pkg is what go list says of a package.
type pkg struct {
	ImportPath string
	Doc        string
	Imports    []string
	Deps       []string
}

// listPackages returns every package of the module, with its dependencies.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "list", "-json=ImportPath,Doc,Imports,Deps", "./...")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}

// cdk are the module paths of the CDK and its runtime.
var cdk = []string{"github.com/aws/aws-cdk-go/", "github.com/aws/constructs-go/", "github.com/aws/jsii-runtime-go", "github.com/cdklabs/"}

// testSupport are the packages only tests may import.
var testSupport = []string{
	"/internal/local", "/internal/lambdaemu", "/internal/cdktest", "/internal/subscriptiontest",
	"/internal/sharedfixtures", "/internal/templatejson", "/internal/cfntemplate", "/internal/eventpattern",
	"/internal/dynalite", "/internal/emfparse", "/internal/sourcetest",
}

// deployable are the packages that define CDK constructs and stacks (with the
// app, the example apps and the CDK test support); every other package is
// runtime or tooling code.
func deployable(path string) bool {
	rel := strings.TrimPrefix(path, module)
	for _, p := range []string{"/constructs", "/stack", "/examples/", "/internal/cdktest", "/test/"} {
		if rel == strings.TrimSuffix(p, "/") || strings.HasPrefix(rel, p) {
			return true
		}
	}
	return rel == "" // package main: the CDK app
}

// TestImportRules checks what may import what: runtime packages never the
// CDK (a Lambda would carry jsii), sources never destinations nor the other
// way round, and no Lambda the test support.
func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		if !deployable(p.ImportPath) {
			for _, d := range p.Deps {
				for _, c := range cdk {
					if strings.HasPrefix(d, c) {
						t.Errorf("%s depends on %s: runtime code never imports the CDK", p.ImportPath, d)
					}
				}
			}
		}
		for _, pair := range [][2]string{{"/sources/", "/destinations/"}, {"/destinations/", "/sources/"}} {
			if strings.HasPrefix(p.ImportPath, module+pair[0]) {
				for _, d := range p.Deps {
					if strings.HasPrefix(d, module+pair[1]) {
						t.Errorf("%s depends on %s: sources and destinations share only the activity", p.ImportPath, d)
					}
				}
			}
		}
		if strings.HasPrefix(p.ImportPath, module+"/lambdas/") {
			for _, d := range p.Deps {
				for _, s := range testSupport {
					if strings.HasPrefix(d, module+s) {
						t.Errorf("%s depends on %s: a Lambda never ships test support", p.ImportPath, d)
					}
				}
			}
		}
	}
}

// TestEveryPackageHasAComment checks each package says what it is (go doc).
func TestEveryPackageHasAComment(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package comment", p.ImportPath)
		}
	}
}
