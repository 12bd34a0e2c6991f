package gofunction_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"golang.org/x/mod/modfile"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGoFunctionDefaultsAndOverrides(t *testing.T) {
	tests := []struct {
		name          string
		props         gofunction.Props
		wantArch      string
		wantMemory    float64
		wantTimeout   float64
		wantRetention float64
		wantLogLevel  string
		wantDeletion  string
	}{
		{
			name:          "defaults",
			props:         gofunction.Props{ImportPath: jsii.String("example.com/hello")},
			wantArch:      "arm64",
			wantMemory:    128,
			wantTimeout:   30,
			wantRetention: 365,
			wantLogLevel:  "INFO",
			wantDeletion:  "Retain",
		},
		{
			name: "overrides",
			props: gofunction.Props{
				ImportPath:          jsii.String("example.com/hello"),
				Architecture:        awslambda.Architecture_X86_64(),
				MemorySize:          jsii.Number(256),
				Timeout:             awscdk.Duration_Seconds(jsii.Number(90)),
				LogRetention:        awslogs.RetentionDays_ONE_MONTH,
				LogRemovalPolicy:    awscdk.RemovalPolicy_DESTROY,
				ApplicationLogLevel: awslambda.ApplicationLogLevel_DEBUG,
			},
			wantArch:      "x86_64",
			wantMemory:    256,
			wantTimeout:   90,
			wantRetention: 30,
			wantLogLevel:  "DEBUG",
			wantDeletion:  "Delete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := cdktest.NewStack()
			// WHEN
			fn := gofunction.New(stack, jsii.String("Hello"), &tt.props)
			// THEN
			tpl, raw := cdktest.Synth(t, stack)
			logGroupID := cdktest.LogicalID(t, raw, "AWS::Logs::LogGroup")
			cdktest.Check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Runtime":       "provided.al2023",
					"Handler":       "bootstrap",
					"Architectures": []any{tt.wantArch},
					"MemorySize":    tt.wantMemory,
					"Timeout":       tt.wantTimeout,
					"LoggingConfig": map[string]any{
						"LogFormat":           "JSON",
						"ApplicationLogLevel": tt.wantLogLevel,
						"LogGroup":            cdktest.Ref(logGroupID),
					},
				})
				tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
					"Properties":     map[string]any{"RetentionInDays": tt.wantRetention},
					"DeletionPolicy": tt.wantDeletion,
				})
			})
			// The role writes to its own log group only, and carries no
			// managed policy.
			s := cdktest.StatementFor(t, raw, "logs:PutLogEvents")
			if !reflect.DeepEqual(s["Resource"], cdktest.GetAtt(logGroupID, "Arn")) {
				t.Errorf("logs statement resource = %v, want the function's log group", s["Resource"])
			}
			role := cdktest.Only(t, raw, "AWS::IAM::Role")
			if mp := cdktest.Get(role, "Properties", "ManagedPolicyArns"); mp != nil {
				t.Errorf("role has managed policies %v", mp)
			}
			if fn.Function() == nil || fn.LogGroup() == nil || fn.Role() == nil {
				t.Error("getters return nil")
			}
		})
	}
}

func TestGoFunctionBuildCommand(t *testing.T) {
	tests := []struct {
		arch       awslambda.Architecture
		wantGOARCH string
	}{
		{awslambda.Architecture_ARM_64(), "arm64"},
		{awslambda.Architecture_X86_64(), "amd64"},
		{nil, "arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.wantGOARCH, func(t *testing.T) {
			b := gofunction.NewBuild("example.com/m/lambdas/x", "/src", gofunction.GOARCH(tt.arch))
			wantEnv := map[string]string{"GOOS": "linux", "GOARCH": tt.wantGOARCH, "CGO_ENABLED": "0"}
			if got := b.Env(); !reflect.DeepEqual(got, wantEnv) {
				t.Errorf("Env() = %v, want %v", got, wantEnv)
			}
			wantArgs := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
				"-tags", "lambda.norpc", "-o", "/out/bootstrap", "example.com/m/lambdas/x"}
			if got := b.Args("/out/bootstrap"); !reflect.DeepEqual(got, wantArgs) {
				t.Errorf("Args() = %q, want %q", got, wantArgs)
			}
			opts := b.BundlingOptions()
			var command []string
			for _, c := range *opts.Command {
				command = append(command, *c)
			}
			if want := append([]string{"go"}, b.Args("/asset-output/bootstrap")...); !reflect.DeepEqual(command, want) {
				t.Errorf("container command = %q, want %q", command, want)
			}
			if got := *(*opts.Environment)["GOARCH"]; got != tt.wantGOARCH {
				t.Errorf("container GOARCH = %q, want %q", got, tt.wantGOARCH)
			}
		})
	}
}

// TestGoFunctionBuildsByImportPathFromAnotherModule synthesizes, with real
// bundling, an app in a temporary module that requires this one through a
// replace directive: the function must compile by import path from there.
func TestGoFunctionBuildsByImportPathFromAnotherModule(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not on PATH: %v", err)
	}
	dir := t.TempDir()
	writeConsumerModule(t, repo, dir)

	// One binary, run twice: the asset hash must not change when the handler
	// did not.
	build := exec.Command(goBin, "build", "-o", filepath.Join(dir, "consumer"), ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build consumer app: %v\n%s", err, out)
	}
	var hashes []string
	for i := range 2 {
		outdir := filepath.Join(dir, fmt.Sprintf("cdk.out.%d", i))
		run := exec.Command(filepath.Join(dir, "consumer"))
		run.Dir = dir
		run.Env = append(os.Environ(), "CDK_OUTDIR="+outdir)
		start := time.Now()
		if out, err := run.CombinedOutput(); err != nil {
			t.Fatalf("synthesize consumer app: %v\n%s", err, out)
		}
		t.Logf("synth %d with bundling: %v", i, time.Since(start).Round(time.Millisecond))
		hash, bootstrap := consumerAsset(t, outdir)
		hashes = append(hashes, hash)
		f, err := elf.Open(bootstrap)
		if err != nil {
			t.Fatalf("bootstrap is not an ELF binary: %v", err)
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("bootstrap machine = %v, want EM_AARCH64", f.Machine)
		}
		f.Close()
		if fi, err := os.Stat(bootstrap); err == nil {
			t.Logf("bootstrap size: %d bytes", fi.Size())
		}
	}
	if hashes[0] != hashes[1] {
		t.Errorf("asset hash changed between identical builds: %s, %s", hashes[0], hashes[1])
	}
}

const consumerMain = `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Consumer"), nil)
	gofunction.New(stack, jsii.String("Hello"), &gofunction.Props{
		ImportPath: jsii.String("github.com/activity-aware/ids/constructs/gofunction/testdata/hello"),
	})
	app.Synth(nil)
}
`

// writeConsumerModule writes a module in dir that requires this module
// (replaced by repo) with this module's own requirements.
func writeConsumerModule(t *testing.T, repo, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	mod := &modfile.File{}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mod.AddModuleStmt("example.com/consumer"))
	must(mod.AddGoStmt(ours.Go.Version))
	for _, r := range ours.Require {
		mod.AddNewRequire(r.Mod.Path, r.Mod.Version, true)
	}
	mod.AddNewRequire(ours.Module.Mod.Path, "v0.0.0-00010101000000-000000000000", false)
	must(mod.AddReplace(ours.Module.Mod.Path, "", repo, ""))
	mod.Cleanup()
	out, err := mod.Format()
	must(err)
	must(os.WriteFile(filepath.Join(dir, "go.mod"), out, 0o644))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	must(err)
	must(os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	must(os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o644))
}

// consumerAsset returns the function's asset hash and bootstrap path in the
// cloud assembly outdir.
func consumerAsset(t *testing.T, outdir string) (hash, bootstrap string) {
	t.Helper()
	var tpl map[string]any
	readJSON(t, filepath.Join(outdir, "Consumer.template.json"), &tpl)
	key, _ := cdktest.Get(cdktest.Only(t, tpl, "AWS::Lambda::Function"), "Properties", "Code", "S3Key").(string)
	hash = strings.TrimSuffix(key, ".zip")
	var assets struct {
		Files map[string]struct {
			Source struct{ Path string } `json:"source"`
		} `json:"files"`
	}
	readJSON(t, filepath.Join(outdir, "Consumer.assets.json"), &assets)
	asset, ok := assets.Files[hash]
	if !ok || asset.Source.Path == "" {
		t.Fatalf("no asset %q in the assembly", hash)
	}
	return hash, filepath.Join(outdir, asset.Source.Path, "bootstrap")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
