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
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/constructs/slackdestination"
	"github.com/activity-aware/ids/detections"
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

func TestStackParameters(t *testing.T) {
	// GIVEN the app with its default context
	s := synthApp(t, nil)
	// THEN the template takes the quick-install parameters
	want := map[string]any{
		"CloudTrailLogGroupName": map[string]any{
			"Type":        "String",
			"Default":     "CloudTrail/DefaultLogGroup",
			"Description": "CloudWatch Logs log group CloudTrail delivers to. Empty: no subscription (development stacks).",
		},
		"CloudTrailFilterPattern": map[string]any{
			"Type":        "String",
			"Default":     `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
			"MaxLength":   1024.0,
			"Description": "CloudWatch Logs filter pattern selecting the CloudTrail records to report.",
		},
		"SlackWebhookUrl": map[string]any{
			"Type":                  "String",
			"NoEcho":                true,
			"AllowedPattern":        `^https://[^\s]+$`,
			"ConstraintDescription": "must be an https:// URL, e.g. a Slack incoming webhook",
			"Description":           "Slack incoming webhook URL; stored in Secrets Manager, never shown.",
		},
	}
	for name, p := range want {
		if got := get(s.tpl, "Parameters", name); !reflect.DeepEqual(got, p) {
			t.Errorf("parameter %s = %v\nwant %v", name, got, p)
		}
	}
	urls := []struct {
		url  string
		want bool
	}{
		{"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", true},
		{"http://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", false},
		{"", false},
		{"https://hooks.slack.com/services/T0 0", false},
	}
	pattern := regexp.MustCompile(stack.WebhookURLPattern)
	for _, u := range urls {
		if got := pattern.MatchString(u.url); got != u.want {
			t.Errorf("AllowedPattern matches %q = %v, want %v", u.url, got, u.want)
		}
	}
	// An empty log group name skips the subscription and its permission.
	wantCond := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("CloudTrailLogGroupName"), ""}}}}
	if got := get(s.tpl, "Conditions", "HasCloudTrailLogGroup"); !reflect.DeepEqual(got, wantCond) {
		t.Errorf("condition = %v, want %v", got, wantCond)
	}
	for _, typ := range []string{"AWS::Logs::SubscriptionFilter", "AWS::Lambda::Permission"} {
		for id, r := range resources(s.tpl, typ) {
			if typ == "AWS::Lambda::Permission" && get(r, "Properties", "Principal") == "events.amazonaws.com" {
				continue
			}
			if r["Condition"] != "HasCloudTrailLogGroup" {
				t.Errorf("%s %s condition = %v, want HasCloudTrailLogGroup", typ, id, r["Condition"])
			}
		}
	}
	filter := resources(s.tpl, "AWS::Logs::SubscriptionFilter")["CloudTrailSourceSubscriptionFilterADC3ACBD"]
	if !reflect.DeepEqual(get(filter, "Properties", "LogGroupName"), ref("CloudTrailLogGroupName")) ||
		!reflect.DeepEqual(get(filter, "Properties", "FilterPattern"), ref("CloudTrailFilterPattern")) {
		t.Errorf("subscription filter = %v, want the parameters", filter)
	}
	perm := resources(s.tpl, "AWS::Lambda::Permission")["CloudTrailSourceLogsInvokePermission1F7A97A9"]
	wantSourceArn := map[string]any{"Fn::Join": []any{"", []any{
		"arn:", ref("AWS::Partition"), ":logs:", ref("AWS::Region"), ":", ref("AWS::AccountId"),
		":log-group:", ref("CloudTrailLogGroupName"), ":*",
	}}}
	if !reflect.DeepEqual(get(perm, "Properties", "SourceArn"), wantSourceArn) ||
		!reflect.DeepEqual(get(perm, "Properties", "SourceAccount"), ref("AWS::AccountId")) {
		t.Errorf("logs permission = %v", perm)
	}
}

// TestStackLogicalIDs pins the logical ids of the stateful resources: a change
// would make CloudFormation replace them (a new bus name, a new secret, lost
// queued messages).
func TestStackFilterPatternFollowsDetections(t *testing.T) {
	// GIVEN detections configured through context
	s := synthApp(t, map[string]any{"detections": "unauthorized-api-calls,root-account-usage"})
	// THEN the filter pattern parameter defaults to what those presets match
	want, err := cloudtrailsource.FilterPatternFor([]string{"unauthorized-api-calls", "root-account-usage"})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(s.tpl, "Parameters", "CloudTrailFilterPattern", "Default"); got != want {
		t.Fatalf("CloudTrailFilterPattern default = %v, want %v", got, want)
	}
	if !strings.Contains(want, `$.userIdentity.type = "Root"`) || !strings.Contains(want, "AccessDenied*") {
		t.Fatalf("derived pattern %q lacks a preset", want)
	}
}

func TestStackLogicalIDs(t *testing.T) {
	s := synthApp(t, nil)
	want := map[string]string{
		"ActivityBus7F826587":                      "AWS::Events::EventBus",
		"ActivityBusArchiveCA3BD7E8":               "AWS::Events::Archive",
		"SlackDestinationKeyDEFAF748":              "AWS::KMS::Key",
		"SlackDestinationWebhookSecretDF11B272":    "AWS::SecretsManager::Secret",
		"CloudTrailSourceFailureQueue01321C75":     "AWS::SQS::Queue",
		"SlackDestinationFailureQueueF011B9BE":     "AWS::SQS::Queue",
		"SlackDestinationDeadLetterQueue14040ED3":  "AWS::SQS::Queue",
		"CloudTrailSourceFunctionLogGroup0BAF89EC": "AWS::Logs::LogGroup",
		"SlackDestinationFunctionLogGroup3BAF0267": "AWS::Logs::LogGroup",
	}
	for id, typ := range want {
		if got := get(s.tpl, "Resources", id, "Type"); got != typ {
			t.Errorf("resource %s type = %v, want %s", id, got, typ)
		}
	}
	for _, typ := range []string{"AWS::Events::EventBus", "AWS::SQS::Queue", "AWS::SecretsManager::Secret", "AWS::KMS::Key"} {
		for id := range resources(s.tpl, typ) {
			if _, ok := want[id]; !ok {
				t.Errorf("unexpected %s %s: pin its logical id", typ, id)
			}
		}
	}
}

func TestStackFunctionsAndOutputs(t *testing.T) {
	s := synthApp(t, nil)
	fns := resources(s.tpl, "AWS::Lambda::Function")
	if len(fns) != 2 {
		t.Fatalf("want 2 functions, got %d", len(fns))
	}
	for id, fn := range fns {
		p := fn["Properties"]
		if get(p, "Runtime") != "provided.al2023" || !reflect.DeepEqual(get(p, "Architectures"), []any{"arm64"}) ||
			get(p, "LoggingConfig", "LogFormat") != "JSON" || get(p, "MemorySize") != 128.0 {
			t.Errorf("function %s = %v", id, p)
		}
	}
	outputs, _ := s.tpl["Outputs"].(map[string]any)
	var names []string
	for name, o := range outputs {
		names = append(names, name)
		if strings.Contains(fmt.Sprint(o), "SlackWebhookUrl") {
			t.Errorf("output %s exposes the webhook URL: %v", name, o)
		}
	}
	sort.Strings(names)
	wantNames := []string{"ActivityBusArn", "ActivityBusName", "CloudTrailSourceFailureQueueUrl",
		"SlackDeadLetterQueueUrl", "SlackFailureQueueUrl", "SlackWebhookSecretArn"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("outputs = %v, want %v", names, wantNames)
	}
	wantValues := map[string]any{
		"ActivityBusName":         ref("ActivityBus7F826587"),
		"ActivityBusArn":          map[string]any{"Fn::GetAtt": []any{"ActivityBus7F826587", "Arn"}},
		"SlackWebhookSecretArn":   ref("SlackDestinationWebhookSecretDF11B272"),
		"SlackDeadLetterQueueUrl": ref("SlackDestinationDeadLetterQueue14040ED3"),
	}
	for name, v := range wantValues {
		if got := get(outputs, name, "Value"); !reflect.DeepEqual(got, v) {
			t.Errorf("output %s = %v, want %v", name, got, v)
		}
	}
	secret := resources(s.tpl, "AWS::SecretsManager::Secret")["SlackDestinationWebhookSecretDF11B272"]
	if !reflect.DeepEqual(get(secret, "Properties", "SecretString"), ref("SlackWebhookUrl")) {
		t.Errorf("secret string = %v, want the NoEcho parameter", get(secret, "Properties", "SecretString"))
	}
}

// TestStackIAMHasNoWildcardResources checks that every statement names its
// resource, except sts:DecodeAuthorizationMessage, which has none to name and
// is granted only when asked for.
func TestStackIAMHasNoWildcardResources(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		want    []any
	}{
		{name: "default", context: nil},
		{
			name:    "decode authorization messages",
			context: map[string]any{"decodeAuthorizationMessages": "true", "organizationId": "o-a1b2c3d4e5"},
			want:    []any{"sts:DecodeAuthorizationMessage"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthApp(t, tt.context)
			var star []any
			for _, p := range resources(s.tpl, "AWS::IAM::Policy") {
				for _, st := range get(p, "Properties", "PolicyDocument", "Statement").([]any) {
					if res := fmt.Sprint(get(st, "Resource")); strings.Contains(res, "*") {
						star = append(star, get(st, "Action"))
					}
				}
			}
			if !reflect.DeepEqual(star, tt.want) {
				t.Errorf("statements with a * resource: %v, want %v", star, tt.want)
			}
		})
	}
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

// TestStackNamesMatchSelfProtection checks that the resources an attacker
// would disable carry the stack name, so the self-protection detections
// recognize changes to them.
func TestStackNamesMatchSelfProtection(t *testing.T) {
	s := synthApp(t, nil)
	name := func(typ, prop string) string {
		for _, r := range get(s.tpl, "Resources").(map[string]any) {
			if get(r, "Type") == typ {
				v, _ := get(r, "Properties", prop).(string)
				return v
			}
		}
		return ""
	}
	bus := name("AWS::Events::EventBus", "Name")
	secret := name("AWS::SecretsManager::Secret", "Name")
	alias := name("AWS::KMS::Alias", "AliasName")
	if bus != "Activity-Aware-IDS-ActivityBus" || secret != "Activity-Aware-IDS/slack-webhook" || alias != "alias/Activity-Aware-IDS/slack-webhook" {
		t.Fatalf("bus %q, secret %q, key alias %q: want them named after the stack", bus, secret, alias)
	}
	records := []struct {
		preset, record string
	}{
		{"self-bus-changed", `{"eventSource":"events.amazonaws.com","eventName":"DeleteEventBus","requestParameters":{"name":"` + bus + `"}}`},
		{"self-secret-or-key-changed", `{"eventSource":"secretsmanager.amazonaws.com","eventName":"PutSecretValue","requestParameters":{"secretId":"arn:aws:secretsmanager:us-east-1:111122223333:secret:` + secret + `-AbCdEf"}}`},
		{"self-secret-or-key-changed", `{"eventSource":"kms.amazonaws.com","eventName":"DeleteAlias","requestParameters":{"aliasName":"` + alias + `"}}`},
	}
	for _, r := range records {
		presets, err := detections.Lookup(r.preset)
		if err != nil {
			t.Fatal(err)
		}
		if got := detections.NewSet(presets).Match([]byte(r.record)); len(got) != 1 {
			t.Errorf("%s does not match %s", r.preset, r.record)
		}
	}
}
