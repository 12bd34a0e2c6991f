package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/constructs/slackdestination"
	"github.com/activity-aware/ids/internal/templatejson"
	"github.com/activity-aware/ids/stack"
)

const module = "github.com/activity-aware/ids/"

// synthesized is one app synthesized with bundling skipped, shared by the
// tests that read it.
type synthesized struct {
	stack awscdk.Stack
	tpl   map[string]any
}

var (
	get       = templatejson.Get
	resources = templatejson.Resources
	ref       = templatejson.Ref
)

var synthCache = map[string]*synthesized{}

// synthApp synthesizes the app with context (plus skipped bundling) once per
// distinct context.
func synthApp(t *testing.T, context map[string]any) *synthesized {
	t.Helper()
	key := fmt.Sprint(context)
	if s, ok := synthCache[key]; ok {
		return s
	}
	ctx := map[string]any{"aws:cdk:bundling-stacks": []any{}}
	for k, v := range context {
		ctx[k] = v
	}
	s := &synthesized{}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("synthesize app: %v", r)
			}
		}()
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		s.stack = newApp(app)
		s.tpl = *assertions.Template_FromStack(s.stack, nil).ToJSON()
	}()
	synthCache[key] = s
	return s
}

// TestCdkNag fails on any unsuppressed AwsSolutions error or warning.
func TestCdkNag(t *testing.T) {
	for _, context := range []map[string]any{
		nil,
		{"decodeAuthorizationMessages": true, "organizationId": "o-a1b2c3d4e5", "detections": []any{"unauthorized-api-calls"}},
	} {
		t.Run(fmt.Sprint(context), func(t *testing.T) {
			s := synthApp(t, context)
			annotations := assertions.Annotations_FromStack(s.stack)
			solutions := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			for level, found := range map[string]*[]*cxapi.SynthesisMessage{
				"error":   annotations.FindError(jsii.String("*"), solutions),
				"warning": annotations.FindWarning(jsii.String("*"), solutions),
			} {
				for _, m := range *found {
					t.Errorf("cdk-nag %s at %s: %v", level, *m.Id, m.Entry.Data)
				}
			}
		})
	}
}

func TestContextToProps(t *testing.T) {
	tests := []struct {
		name     string
		context  map[string]any
		wantName string
		want     stack.Props
		wantErr  bool
		// wantSynthesizer: a packaged template names its asset bucket.
		wantSynthesizer bool
	}{
		{name: "defaults", wantName: "Activity-Aware-IDS"},
		{
			name:     "cli strings",
			context:  map[string]any{"stackName": "Activity-Aware-IDS-Dev", "detections": "unauthorized-api-calls, root-activity", "decodeAuthorizationMessages": "true"},
			wantName: "Activity-Aware-IDS-Dev",
			want:     stack.Props{Detections: []string{"unauthorized-api-calls", "root-activity"}, DecodeAuthorizationMessages: true},
		},
		{
			name:     "cdk.json values",
			context:  map[string]any{"detections": []any{"unauthorized-api-calls"}, "decodeAuthorizationMessages": false, "organizationId": "o-a1b2c3d4e5"},
			wantName: "Activity-Aware-IDS",
			want:     stack.Props{Detections: []string{"unauthorized-api-calls"}, OrganizationID: "o-a1b2c3d4e5"},
		},
		{
			name:            "package",
			context:         map[string]any{"packageBucket": "aaids-releases"},
			wantName:        "Activity-Aware-IDS",
			wantSynthesizer: true,
		},
		{name: "bad list", context: map[string]any{"detections": 3.0}, wantErr: true},
		{name: "bad bool", context: map[string]any{"decodeAuthorizationMessages": "sometimes"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props, name, err := propsFromContext(func(key *string) any { return tt.context[*key] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if tt.wantSynthesizer != (props.Synthesizer != nil) {
				t.Errorf("synthesizer set = %v, want %v", props.Synthesizer != nil, tt.wantSynthesizer)
			}
			props.Synthesizer = nil
			if name != tt.wantName || !reflect.DeepEqual(*props, tt.want) {
				t.Errorf("got %q %+v, want %q %+v", name, *props, tt.wantName, tt.want)
			}
		})
	}
}

// TestEnvironmentContract checks that each function receives exactly the
// environment variables its main package reads.
func TestEnvironmentContract(t *testing.T) {
	s := synthApp(t, nil)
	for _, fn := range []struct{ construct, importPath string }{
		{"CloudTrailSource", cloudtrailsource.ImportPath},
		{"SlackDestination", slackdestination.ImportPath},
	} {
		t.Run(fn.construct, func(t *testing.T) {
			cfn := s.stack.Node().FindChild(jsii.String(fn.construct)).Node().
				FindChild(jsii.String("Function")).Node().FindChild(jsii.String("Function")).Node().DefaultChild()
			id := *s.stack.GetLogicalId(cfn.(awscdk.CfnElement))
			vars, _ := get(s.tpl, "Resources", id, "Properties", "Environment", "Variables").(map[string]any)
			var given []string
			for k := range vars {
				given = append(given, k)
			}
			slices.Sort(given)
			read := envRead(t, strings.TrimPrefix(fn.importPath, module))
			if !slices.Equal(given, read) {
				t.Errorf("%s receives %v, its main package (%s) reads %v", fn.construct, given, fn.importPath, read)
			}
		})
	}
}

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

// lambdaRuntimeEnv are the variables the Lambda runtime itself sets
// ("Defined runtime environment variables" in the Lambda developer guide):
// a main may read them, a stack must not set them.
var lambdaRuntimeEnv = regexp.MustCompile(`^(_HANDLER|_X_AMZN_TRACE_ID|AWS_DEFAULT_REGION|AWS_REGION|` +
	`AWS_EXECUTION_ENV|AWS_LAMBDA_[A-Z0-9_]+|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|` +
	`AWS_SESSION_TOKEN|AWS_XRAY_[A-Z0-9_]+|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR|TZ)$`)

// envRead returns the environment variable names the package in dir reads:
// every constant string of the form NAME passed to a call (os.Getenv,
// os.LookupEnv or a helper such as mustEnv), except those the Lambda runtime
// sets itself.
func envRead(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v): the Lambda main package is missing", dir, err)
	}
	consts := map[string]string{}
	var parsed []*ast.File
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			var v string
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				if a.Kind == token.STRING {
					v, _ = strconv.Unquote(a.Value)
				}
			case *ast.Ident:
				v = consts[a.Name]
			}
			if envName.MatchString(v) && !lambdaRuntimeEnv.MatchString(v) {
				seen[v] = true
			}
			return true
		})
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
