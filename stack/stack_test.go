package stack_test

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/activity-aware/ids/stack"
)

var (
	get       = cdktest.Get
	resources = cdktest.Resources
	ref       = cdktest.Ref
)

// synthesized is one stack synthesized with bundling skipped, shared by the
// tests that read it.
type synthesized struct {
	stack awscdk.Stack
	tpl   map[string]any
}

var synthCache = map[string]*synthesized{}

// synthStack synthesizes the stack, named as the app names it by default,
// once per distinct props.
func synthStack(t *testing.T, props *stack.Props) *synthesized {
	t.Helper()
	key := fmt.Sprintf("%+v", props)
	if s, ok := synthCache[key]; ok {
		return s
	}
	s := &synthesized{}
	cdktest.Check(t, func() {
		s.stack = stack.New(cdktest.NewApp(nil), jsii.String("Activity-Aware-IDS"), props)
		s.tpl = *assertions.Template_FromStack(s.stack, nil).ToJSON()
	})
	synthCache[key] = s
	return s
}

func TestStackParameters(t *testing.T) {
	// GIVEN the stack with its defaults
	s := synthStack(t, nil)
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
			"AllowedPattern":        `^https://hooks\.slack(-gov)?\.com/services/[^\s]+$|^\{\s*"botToken"\s*:\s*"xoxb-[0-9A-Za-z-]{10,250}"\s*,\s*"channel"\s*:\s*"[CGD][0-9A-Z]{8,20}"\s*\}$`,
			"ConstraintDescription": `must be a Slack incoming webhook URL (https://hooks.slack.com/services/… or https://hooks.slack-gov.com/services/…) or a Slack app's {"botToken":"xoxb-…","channel":"C…"}`,
			"Description":           `Slack incoming webhook URL, or a Slack app's {"botToken":"xoxb-…","channel":"C…"} (app mode: a group's repeats threaded under its first message); stored in Secrets Manager, never shown.`,
		},
		"SlackMinimumSeverity": map[string]any{
			"Type":          "String",
			"Default":       "info",
			"AllowedValues": []any{"critical", "high", "medium", "low", "info"},
			"Description":   "Least severity of the activities sent to Slack.",
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
		{"https://hooks.slack-gov.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", true},
		{"http://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", false},
		// Any other https host would have the function refuse the secret at
		// the first alert; the template refuses it at deployment instead.
		{"https://evil.example/services/T0/B0/X", false},
		{"https://hooks.slack.com.evil.example/services/T0/B0/X", false},
		{"https://hooksXslack.com/services/T0/B0/X", false},
		{"https://hooks.slack.com/workflows/T0/X", false},
		// A Slack app's secret, as the function accepts it.
		{`{"botToken":"xoxb-1234567890-0987654321-AbCdEfGh","channel":"C0123456789"}`, true},
		{`{ "botToken": "xoxb-1234567890-0987654321-AbCdEfGh", "channel": "G0123456789" }`, true},
		{`{"botToken":"xoxp-1234567890-0987654321-AbCdEfGh","channel":"C0123456789"}`, false},
		{`{"botToken":"xoxb-1234567890-0987654321-AbCdEfGh","channel":"#security"}`, false},
		{`{"botToken":"xoxb-1234567890-0987654321-AbCdEfGh"}`, false},
		{`{"botToken":"xoxb-1234567890","channel":"C0123456789","url":"https://evil.example/"}`, false},
		{"https://127.0.0.1/services/T0/B0/X", false},
		{"", false},
		{"https://hooks.slack.com/services/T0 0", false},
		{"https://evil.example/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", false},
		{"https://hooks.slack.com.evil.example/services/T0", false},
		{"https://hooks.slackxcom/services/T0", false},
	}
	pattern := regexp.MustCompile(stack.SlackSecretPattern)
	for _, u := range urls {
		// The function reads what the template admits the same way.
		if pattern.MatchString(u.url) {
			if _, err := slack.TargetFromSecret(u.url, false); err != nil {
				t.Errorf("the template admits %q, the function refuses it: %v", u.url, err)
			}
		}
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

func TestStackFilterPatternFollowsDetections(t *testing.T) {
	// GIVEN detections configured
	s := synthStack(t, &stack.Props{Detections: []string{"unauthorized-api-calls", "root-account-usage"}})
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

// TestStackLogicalIDs pins the logical ids of the stateful resources: a change
// would make CloudFormation replace them (a new bus name, a new secret, lost
// queued messages).
func TestStackLogicalIDs(t *testing.T) {
	s := synthStack(t, nil)
	want := map[string]string{
		"ActivityBus7F826587":                      "AWS::Events::EventBus",
		"ActivityBusArchiveCA3BD7E8":               "AWS::Events::Archive",
		"SlackDestinationKeyDEFAF748":              "AWS::KMS::Key",
		"SlackDestinationWebhookSecretDF11B272":    "AWS::SecretsManager::Secret",
		"CloudTrailSourceFailureQueue01321C75":     "AWS::SQS::Queue",
		"SlackDestinationFailureQueueF011B9BE":     "AWS::SQS::Queue",
		"SlackDestinationDeadLetterQueue14040ED3":  "AWS::SQS::Queue",
		"SlackDestinationQueueF18183DE":            "AWS::SQS::Queue",
		"SlackDestinationPriorityQueue68E89526":    "AWS::SQS::Queue",
		"CorrelationTableD59B857F":                 "AWS::DynamoDB::Table",
		"CloudTrailSourceFunctionLogGroup0BAF89EC": "AWS::Logs::LogGroup",
		"SlackDestinationFunctionLogGroup3BAF0267": "AWS::Logs::LogGroup",
		"MonitoringTopicKey423AF5B2":               "AWS::KMS::Key",
		"MonitoringAlertDeadLetterQueue1FAD524E":   "AWS::SQS::Queue",

		"SignedWebhookDestinationKey2EBBB0B1":             "AWS::KMS::Key",
		"SignedWebhookDestinationSecret1C4AFB4C":          "AWS::SecretsManager::Secret",
		"SignedWebhookDestinationFailureQueueCB43F40A":    "AWS::SQS::Queue",
		"SignedWebhookDestinationDeadLetterQueueAB6C1B11": "AWS::SQS::Queue",
		"PagerDutyDestinationKeyB0DDCB2E":                 "AWS::KMS::Key",
		"PagerDutyDestinationSecretD7C392D7":              "AWS::SecretsManager::Secret",
		"PagerDutyDestinationFailureQueueA792856A":        "AWS::SQS::Queue",
		"PagerDutyDestinationDeadLetterQueue61261F4B":     "AWS::SQS::Queue",
		"TeamsDestinationKeyF1F89656":                     "AWS::KMS::Key",
		"TeamsDestinationSecretB2110DDB":                  "AWS::SecretsManager::Secret",
		"TeamsDestinationFailureQueueE3C7D9E0":            "AWS::SQS::Queue",
		"TeamsDestinationDeadLetterQueueB733B860":         "AWS::SQS::Queue",
		"EmailDestinationKey28E7F1E1":                     "AWS::KMS::Key",
		"EmailDestinationFailureQueue3A6401FC":            "AWS::SQS::Queue",
		"EmailDestinationDeadLetterQueueA5C7B34E":         "AWS::SQS::Queue",
		// Every destination's pacing queues.
		"SignedWebhookDestinationQueueE6A3DB48":         "AWS::SQS::Queue",
		"SignedWebhookDestinationPriorityQueue4A1F3F6D": "AWS::SQS::Queue",
		"PagerDutyDestinationQueueF952D557":             "AWS::SQS::Queue",
		"PagerDutyDestinationPriorityQueueA0451438":     "AWS::SQS::Queue",
		"TeamsDestinationQueue8DC86D47":                 "AWS::SQS::Queue",
		"TeamsDestinationPriorityQueue76DCE898":         "AWS::SQS::Queue",
		"EmailDestinationQueue704C4B0D":                 "AWS::SQS::Queue",
		"EmailDestinationPriorityQueue0CAF6BE0":         "AWS::SQS::Queue",
	}
	for id, typ := range want {
		if got := get(s.tpl, "Resources", id, "Type"); got != typ {
			t.Errorf("resource %s type = %v, want %s", id, got, typ)
		}
	}
	for _, typ := range []string{"AWS::Events::EventBus", "AWS::SQS::Queue", "AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::DynamoDB::Table"} {
		for id := range resources(s.tpl, typ) {
			if _, ok := want[id]; !ok {
				t.Errorf("unexpected %s %s: pin its logical id", typ, id)
			}
		}
	}
}

func TestStackFunctionsAndOutputs(t *testing.T) {
	s := synthStack(t, nil)
	fns := resources(s.tpl, "AWS::Lambda::Function")
	if len(fns) != 6 {
		t.Fatalf("want 6 functions (four conditional), got %d", len(fns))
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
		if strings.Contains(fmt.Sprint(o), "SlackWebhookUrl") || strings.Contains(fmt.Sprint(o), "SignedWebhookUrl") {
			t.Errorf("output %s exposes the webhook URL: %v", name, o)
		}
	}
	sort.Strings(names)
	wantNames := []string{"ActivityBusArn", "ActivityBusName", "AlarmTopicArn", "CloudTrailSourceFailureQueueUrl", "CorrelationTableName", "DashboardUrl",
		"EmailDeadLetterQueueUrl", "EmailFailureQueueUrl", "EmailTopicArn", "HeartbeatAlarmName", "PagerDutyDeadLetterQueueUrl", "PagerDutyFailureQueueUrl", "PagerDutySecretArn", "SignedWebhookDeadLetterQueueUrl", "SignedWebhookFailureQueueUrl", "SignedWebhookSecretArn",
		"SlackDeadLetterQueueUrl", "SlackFailureQueueUrl", "SlackWebhookSecretArn", "TeamsDeadLetterQueueUrl", "TeamsFailureQueueUrl", "TeamsWebhookSecretArn"}
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
		name  string
		props *stack.Props
		want  []any
	}{
		{name: "default", props: nil},
		{
			name:  "decode authorization messages",
			props: &stack.Props{DecodeAuthorizationMessages: true, OrganizationID: "o-a1b2c3d4e5"},
			want:  []any{"sts:DecodeAuthorizationMessage"},
		},
		{name: "event sources", props: &stack.Props{Sources: []string{"cloudtrail-logs", "guardduty", "securityhub", "accessanalyzer"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthStack(t, tt.props)
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

// TestStackNamesMatchSelfProtection checks that the resources an attacker
// would disable carry the stack name, so the self-protection detections
// recognize changes to them.
func TestStackNamesMatchSelfProtection(t *testing.T) {
	s := synthStack(t, nil)
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
	secret, _ := get(s.tpl, "Resources", "SlackDestinationWebhookSecretDF11B272", "Properties", "Name").(string)
	alias := ""
	for _, r := range resources(s.tpl, "AWS::KMS::Alias") {
		if v, _ := get(r, "Properties", "AliasName").(string); strings.HasSuffix(v, "/slack-webhook") {
			alias = v
		}
	}
	signed, _ := get(s.tpl, "Resources", "SignedWebhookDestinationSecret1C4AFB4C", "Properties", "Name").(string)
	if signed != "Activity-Aware-IDS/signed-webhook" {
		t.Errorf("signed webhook secret %q: want it named after the stack", signed)
	}
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

// TestStackMonitoring checks what the stack gives the monitoring: every
// last-stop queue and both functions alarmed on, the e-mail parameter and
// its condition, the heartbeat on the source, and outputs that say where to
// look.
func TestStackMonitoring(t *testing.T) {
	s := synthStack(t, nil)
	if got := get(s.tpl, "Parameters", "AlarmEmail", "Default"); got != "" {
		t.Errorf("AlarmEmail default = %v, want empty", got)
	}
	pattern := regexp.MustCompile(stack.AlarmEmailPattern)
	for addr, want := range map[string]bool{"": true, "secops@example.com": true, "not an address": false, "a@b": false} {
		if pattern.MatchString(addr) != want {
			t.Errorf("AlarmEmail pattern matches %q = %v, want %v", addr, !want, want)
		}
	}
	wantCond := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("AlarmEmail"), ""}}}}
	if got := get(s.tpl, "Conditions", "HasAlarmEmail"); !reflect.DeepEqual(got, wantCond) {
		t.Errorf("HasAlarmEmail = %v, want %v", got, wantCond)
	}
	for _, sub := range resources(s.tpl, "AWS::SNS::Subscription") {
		if sub["Condition"] != "HasAlarmEmail" || !reflect.DeepEqual(get(sub, "Properties", "Endpoint"), ref("AlarmEmail")) {
			t.Errorf("subscription = %v", sub)
		}
	}
	watched := watchedIDs(s.tpl)
	for _, id := range []string{"CloudTrailSourceFailureQueue01321C75", "SlackDestinationFailureQueueF011B9BE", "SlackDestinationDeadLetterQueue14040ED3", "MonitoringAlertDeadLetterQueue1FAD524E"} {
		if !watched[id] {
			t.Errorf("no alarm watches queue %s", id)
		}
	}
	for id := range resources(s.tpl, "AWS::Lambda::Function") {
		if !watched[id] {
			t.Errorf("no alarm watches function %s", id)
		}
	}
	sched := get(s.tpl, "Resources", cdktest.LogicalID(t, s.tpl, "AWS::Scheduler::Schedule"), "Properties", "Target", "Arn")
	if !reflect.DeepEqual(sched, map[string]any{"Fn::GetAtt": []any{"CloudTrailSourceFunctionF5B91EDE", "Arn"}}) {
		t.Errorf("heartbeat target = %v, want the CloudTrail source", sched)
	}
	hb := get(s.tpl, "Outputs", "HeartbeatAlarmName", "Value", "Ref")
	if get(s.tpl, "Resources", hb, "Properties", "TreatMissingData") != "breaching" {
		t.Errorf("HeartbeatAlarmName output names %v, not the missing-data alarm", hb)
	}
}

// TestStackSources checks that each source option deploys its source, and
// only its source: the log-group parameters come with cloudtrail-logs, the
// GuardDuty rule and its queues (logical ids pinned) with guardduty.
func TestStackSources(t *testing.T) {
	tests := []struct {
		name         string
		sources      []string
		wantParams   []string // the CloudTrail log group's
		wantQueues   []string
		wantOutputs  []string
		wantPatterns []any
		// wantSkip is the Security Hub source's SECURITYHUB_SKIP_PRODUCTS.
		wantSkip string
		// wantState is the default-bus rules' state (default ENABLED).
		wantState string
	}{{
		name:        "guardduty only",
		sources:     []string{"guardduty"},
		wantParams:  nil,
		wantQueues:  []string{"GuardDutySourceDeadLetterQueueE17CA047", "GuardDutySourceFailureQueue415BF499"},
		wantOutputs: []string{"GuardDutySourceDeadLetterQueueUrl", "GuardDutySourceFailureQueueUrl"},
		wantPatterns: []any{
			map[string]any{"source": []any{"aws.guardduty"}, "detail-type": []any{"GuardDuty Finding"}},
		},
	}, {
		name:        "log group and guardduty",
		sources:     []string{"cloudtrail-logs", "guardduty"},
		wantParams:  []string{"CloudTrailFilterPattern", "CloudTrailLogGroupName"},
		wantQueues:  []string{"CloudTrailSourceFailureQueue01321C75", "GuardDutySourceDeadLetterQueueE17CA047", "GuardDutySourceFailureQueue415BF499"},
		wantOutputs: []string{"CloudTrailSourceFailureQueueUrl", "GuardDutySourceDeadLetterQueueUrl", "GuardDutySourceFailureQueueUrl"},
		wantPatterns: []any{
			map[string]any{"source": []any{"aws.guardduty"}, "detail-type": []any{"GuardDuty Finding"}},
		},
	}, {
		name:        "guardduty and securityhub",
		sources:     []string{"guardduty", "securityhub"},
		wantParams:  nil,
		wantQueues:  []string{"GuardDutySourceDeadLetterQueueE17CA047", "GuardDutySourceFailureQueue415BF499", "SecurityHubSourceDeadLetterQueueE13AFDFE", "SecurityHubSourceFailureQueue8CCC1E72"},
		wantOutputs: []string{"GuardDutySourceFailureQueueUrl", "SecurityHubSourceDeadLetterQueueUrl", "SecurityHubSourceFailureQueueUrl"},
		wantPatterns: []any{
			map[string]any{"source": []any{"aws.guardduty"}, "detail-type": []any{"GuardDuty Finding"}},
			map[string]any{"source": []any{"aws.securityhub"}, "detail-type": []any{"Security Hub Findings - Imported"}},
		},
		wantSkip: "GuardDuty",
	}, {
		name:        "cloudtrail events",
		sources:     []string{"cloudtrail-events"},
		wantParams:  nil,
		wantQueues:  []string{"CloudTrailEventsSourceDeadLetterQueue728DC0C6", "CloudTrailEventsSourceFailureQueueDB0CBD8F"},
		wantOutputs: []string{"CloudTrailEventsSourceDeadLetterQueueUrl", "CloudTrailEventsSourceFailureQueueUrl"},
		wantPatterns: []any{map[string]any{
			"source":      []any{map[string]any{"prefix": "aws."}},
			"detail-type": []any{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail"},
			"detail":      map[string]any{"errorCode": []any{map[string]any{"suffix": "UnauthorizedOperation"}, map[string]any{"prefix": "AccessDenied"}}},
		}},
		wantState: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthStack(t, &stack.Props{Sources: tt.sources})
			// The log group's parameters come with its source only (the
			// destinations' parameters are theirs to test).
			var params []string
			for name := range s.tpl["Parameters"].(map[string]any) {
				if strings.HasPrefix(name, "CloudTrail") {
					params = append(params, name)
				}
			}
			sort.Strings(params)
			if !reflect.DeepEqual(params, tt.wantParams) {
				t.Errorf("parameters %v, want %v", params, tt.wantParams)
			}
			for _, id := range tt.wantQueues {
				if get(s.tpl, "Resources", id, "Type") != "AWS::SQS::Queue" {
					t.Errorf("no queue %s", id)
				}
			}
			for _, name := range tt.wantOutputs {
				if get(s.tpl, "Outputs", name, "Value") == nil {
					t.Errorf("no output %s", name)
				}
			}
			for _, fn := range resources(s.tpl, "AWS::Lambda::Function") {
				if get(fn, "Properties", "Environment", "Variables", "EVENT_SOURCES") == "securityhub" {
					if got, _ := get(fn, "Properties", "Environment", "Variables", "SECURITYHUB_SKIP_PRODUCTS").(string); got != tt.wantSkip {
						t.Errorf("SECURITYHUB_SKIP_PRODUCTS = %q, want %q", got, tt.wantSkip)
					}
				}
			}
			// Monitoring watches every last-stop queue and function.
			watched := watchedIDs(s.tpl)
			for _, id := range tt.wantQueues {
				if !watched[id] {
					t.Errorf("no alarm watches queue %s", id)
				}
			}
			for id := range resources(s.tpl, "AWS::Lambda::Function") {
				if !watched[id] {
					t.Errorf("no alarm watches function %s", id)
				}
			}
			var patterns []any
			for _, r := range resources(s.tpl, "AWS::Events::Rule") {
				// The self-protection alerts from CloudTrail are
				// TestStackSelfProtectionAlerts' business.
				cloudTrail := reflect.DeepEqual(get(r, "Properties", "EventPattern", "detail-type"), []any{"AWS API Call via CloudTrail"})
				if get(r, "Properties", "EventBusName") == nil && get(r, "Properties", "EventPattern") != nil && !cloudTrail {
					patterns = append(patterns, get(r, "Properties", "EventPattern"))
					want := tt.wantState
					if want == "" {
						want = "ENABLED"
					}
					if got := get(r, "Properties", "State"); got != want {
						t.Errorf("rule state %v, want %s", got, want)
					}
				}
			}
			sort.Slice(patterns, func(i, j int) bool { return fmt.Sprint(patterns[i]) < fmt.Sprint(patterns[j]) })
			if !reflect.DeepEqual(patterns, tt.wantPatterns) {
				t.Errorf("default-bus rules %v, want %v", patterns, tt.wantPatterns)
			}
		})
	}
}

// TestStackKinesisLogs checks -c kinesisLogs=true: the destination admits
// the organization, the stream's batches that fail every retry land in a
// queue an alarm watches, and the operator finds both in the outputs.
func TestStackKinesisLogs(t *testing.T) {
	s := synthStack(t, &stack.Props{KinesisLogs: true, OrganizationID: "o-a1b2c3d4e5"})
	queue := cdktest.FindID(t, s.tpl, "AWS::SQS::Queue", "StreamFailureQueue")
	if !watchedIDs(s.tpl)[queue] {
		t.Errorf("no alarm watches %s", queue)
	}
	stream := cdktest.LogicalID(t, s.tpl, "AWS::Kinesis::Stream")
	var esm map[string]any
	for _, m := range resources(s.tpl, "AWS::Lambda::EventSourceMapping") {
		if get(m, "Properties", "EventSourceArn", "Fn::GetAtt", 0) == stream {
			esm = m
		}
	}
	if esm == nil {
		t.Fatal("no event source mapping reads the stream")
	}
	if got := get(esm, "Properties", "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt", 0); got != queue {
		t.Errorf("on-failure destination %v, want %s", got, queue)
	}
	if got := get(esm, "Properties", "FunctionName", "Ref"); got != "CloudTrailSourceFunctionF5B91EDE" {
		t.Errorf("mapping feeds %v, want the CloudTrail source", got)
	}
	policy := fmt.Sprint(get(cdktest.Only(t, s.tpl, "AWS::Logs::Destination"), "Properties", "DestinationPolicy"))
	if !strings.Contains(policy, `\"aws:PrincipalOrgID\":\"o-a1b2c3d4e5\"`) && !strings.Contains(policy, `"aws:PrincipalOrgID":"o-a1b2c3d4e5"`) {
		t.Errorf("destination policy %s does not admit the organization", policy)
	}
	for _, o := range []string{"CloudTrailStreamFailureQueueUrl", "CloudTrailLogsDestinationArn"} {
		if get(s.tpl, "Outputs", o) == nil {
			t.Errorf("no output %s", o)
		}
	}
	// Without the option, none of it.
	if n := len(resources(synthStack(t, nil).tpl, "AWS::Kinesis::Stream")); n != 0 {
		t.Errorf("%d streams by default", n)
	}
}

func TestStackKinesisLogsNeedsTheLogsSource(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "KinesisLogs") {
			t.Errorf("recovered %v, want a KinesisLogs panic", r)
		}
	}()
	stack.New(cdktest.NewApp(nil), jsii.String("Bad"), &stack.Props{KinesisLogs: true, Sources: []string{"guardduty"}})
}

func TestStackRejectsUnknownSource(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `unknown source "guard-duty"`) {
			t.Errorf("recovered %v, want an unknown-source panic", r)
		}
	}()
	stack.New(cdktest.NewApp(nil), jsii.String("Bad"), &stack.Props{Sources: []string{"guard-duty"}})
}

// watchedIDs are the logical ids of the queues and functions some alarm
// watches (by a dimension that refers to them).
func watchedIDs(tpl map[string]any) map[string]bool {
	watched := map[string]bool{}
	for _, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
		for _, d := range get(a, "Properties", "Dimensions").([]any) {
			if v, ok := get(d, "Value", "Fn::GetAtt", 0).(string); ok {
				watched[v] = true
			}
			if v, ok := get(d, "Value", "Ref").(string); ok {
				watched[v] = true
			}
		}
	}
	return watched
}

// TestStackOptionalDestinations checks each optional destination: a NoEcho
// parameter that defaults to empty, a minimum-severity parameter, and a
// condition that leaves every resource of the destination, its alarms and
// its outputs out when the parameter is empty.
func TestStackOptionalDestinations(t *testing.T) {
	s := synthStack(t, nil)
	tests := []struct {
		param, minParam, minDefault, pattern, condition, prefix string
		good, bad                                               []string
		outputs                                                 []string
	}{
		{
			stack.ParamSignedWebhookURL, stack.ParamSignedWebhookMinSeverity, "info", stack.SignedWebhookURLPattern, stack.ConditionSignedWebhook, "SignedWebhookDestination",
			[]string{"", "https://hooks.example.com/aaids?k=v"},
			[]string{"http://hooks.example.com/", `https://x.example/"},"signingSecret":"known`, "https://x.example/a b", `https://x.example/\\`},
			[]string{"SignedWebhookSecretArn", "SignedWebhookDeadLetterQueueUrl", "SignedWebhookFailureQueueUrl"},
		},
		{
			stack.ParamPagerDutyRoutingKey, stack.ParamPagerDutyMinSeverity, "high", stack.PagerDutyRoutingKeyPattern, stack.ConditionPagerDuty, "PagerDutyDestination",
			[]string{"", "R0123456789abcdef0123456789ABCDE"},
			[]string{"short", `R0123456789abcdef0123456789ABC"}`, "R0123456789abcdef0123456789ABCDEF"},
			[]string{"PagerDutySecretArn", "PagerDutyDeadLetterQueueUrl", "PagerDutyFailureQueueUrl"},
		},
		{
			stack.ParamTeamsWebhookURL, stack.ParamTeamsMinSeverity, "info", stack.TeamsWebhookURLPattern, stack.ConditionTeams, "TeamsDestination",
			[]string{"", "https://prod-00.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?api-version=1&sig=abc"},
			[]string{"http://x.example/", `https://x.example/"}`, "https://x.example/a b"},
			[]string{"TeamsWebhookSecretArn", "TeamsDeadLetterQueueUrl", "TeamsFailureQueueUrl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			p := get(s.tpl, "Parameters", tt.param)
			if get(p, "NoEcho") != true || get(p, "Default") != "" || get(p, "AllowedPattern") != tt.pattern {
				t.Errorf("parameter %s = %v", tt.param, p)
			}
			m := get(s.tpl, "Parameters", tt.minParam)
			if get(m, "Default") != tt.minDefault || !reflect.DeepEqual(get(m, "AllowedValues"), []any{"critical", "high", "medium", "low", "info"}) {
				t.Errorf("parameter %s = %v", tt.minParam, m)
			}
			wantCond := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref(tt.param), ""}}}}
			if got := get(s.tpl, "Conditions", tt.condition); !reflect.DeepEqual(got, wantCond) {
				t.Errorf("condition = %v", got)
			}
			re := regexp.MustCompile(tt.pattern)
			for _, v := range tt.good {
				if !re.MatchString(v) {
					t.Errorf("pattern refuses %q", v)
				}
			}
			for _, v := range tt.bad {
				if re.MatchString(v) {
					t.Errorf("pattern accepts %q", v)
				}
			}
			gated, alarms := 0, 0
			for id, r := range get(s.tpl, "Resources").(map[string]any) {
				inDest := strings.HasPrefix(id, tt.prefix)
				c := get(r, "Condition")
				switch {
				case get(r, "Type") == "AWS::CloudWatch::Alarm" && c == tt.condition:
					// Errors, throttles, cold-start permanent errors, two
					// queues and the heartbeat are watched while it exists.
					alarms++
				case (c == tt.condition) != inDest:
					t.Errorf("resource %s has condition %v", id, c)
				case inDest:
					gated++
				}
			}
			if gated < 12 || alarms != 6 {
				t.Errorf("%d resources gated, %d alarms; want at least 12 and 6", gated, alarms)
			}
			assertHeartbeatAlarm(t, s.tpl, tt.prefix, tt.condition)
			for _, o := range tt.outputs {
				if got := get(s.tpl, "Outputs", o, "Condition"); got != tt.condition {
					t.Errorf("output %s condition = %v", o, got)
				}
			}
			if strings.Contains(fmt.Sprint(get(s.tpl, "Outputs")), tt.param) {
				t.Errorf("an output carries %s", tt.param)
			}
		})
	}
}

// TestStackNamingReachesTheSource: the source's self-protection presets
// recognize this stack's resources by its name and the log group parameter.
func TestStackNamingReachesTheSource(t *testing.T) {
	s := synthStack(t, nil)
	env := get(s.tpl, "Resources", "CloudTrailSourceFunctionF5B91EDE", "Properties", "Environment", "Variables")
	if get(env, "DETECTIONS_NAMING_PREFIX") != "Activity-Aware-IDS" || !reflect.DeepEqual(get(env, "DETECTIONS_TRAIL_LOG_GROUP"), ref("CloudTrailLogGroupName")) {
		t.Errorf("source naming environment = %v", env)
	}
}

// TestStackSelfProtectionAlerts: every self-protection preset reaches the
// alarm topic straight from CloudTrail's events on the default bus, under
// this stack's naming, whatever the source evaluates; the activity-bus rule
// exists only when the source labels them.
func TestStackSelfProtectionAlerts(t *testing.T) {
	s := synthStack(t, nil)
	topic := cdktest.FindID(t, s.tpl, "AWS::SNS::Topic", "Monitoring")
	presets, err := detections.LookupFor(detections.Naming{Prefix: "Activity-Aware-IDS", TrailLogGroup: "CloudTrail/DefaultLogGroup"}, detections.PackSelfProtection)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, r := range resources(s.tpl, "AWS::Events::Rule") {
		p := r["Properties"]
		if !reflect.DeepEqual(get(p, "EventPattern", "detail-type"), []any{"AWS API Call via CloudTrail"}) {
			continue
		}
		if get(p, "EventBusName") != nil || !reflect.DeepEqual(get(p, "Targets", 0, "Arn"), ref(topic)) || get(p, "Targets", 0, "DeadLetterConfig") == nil {
			t.Errorf("CloudTrail alert rule %v is not on the default bus with the topic and a dead-letter queue", p)
		}
		tmpl, _ := get(p, "Targets", 0, "InputTransformer", "InputTemplate").(string)
		alerts = append(alerts, tmpl)
	}
	if len(alerts) != len(presets) {
		t.Fatalf("%d CloudTrail alert rules, want one per self-protection preset (%d)", len(alerts), len(presets))
	}
	for _, p := range presets {
		found := false
		for _, a := range alerts {
			found = found || strings.Contains(a, "("+p.ID+", from CloudTrail)")
		}
		if !found {
			t.Errorf("no CloudTrail alert for %s", p.ID)
		}
	}
	// The log group in the patterns is the stack's parameter.
	if !strings.Contains(fmt.Sprint(s.tpl["Resources"]), "logGroupName:[map[Ref:CloudTrailLogGroupName]") {
		t.Error("the CloudTrail alerts do not name the stack's log group parameter")
	}
	for _, r := range resources(s.tpl, "AWS::Events::Rule") {
		if get(r, "Properties", "EventPattern", "detail", "detections") != nil {
			t.Error("an activity-bus alert rule exists though the source does not evaluate the self-protection presets")
		}
	}
	withPresets := synthStack(t, &stack.Props{Detections: []string{"unauthorized-api-calls", "self-protection"}})
	n := 0
	for _, r := range resources(withPresets.tpl, "AWS::Events::Rule") {
		if get(r, "Properties", "EventPattern", "detail", "detections") != nil {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d activity-bus alert rules with the presets evaluated, want 1", n)
	}
}

// TestStackOrganization: with an organization, the central bus admits the
// event sources' AWS events from the organization's accounts (source aws.*,
// those detail-types), and each event source's rule listens on the bus too;
// the member stack forwards them there.
func TestStackOrganization(t *testing.T) {
	s := synthStack(t, &stack.Props{OrganizationID: "o-a1b2c3d4e5", Sources: []string{"cloudtrail-logs", "guardduty", "accessanalyzer"}})
	var forward map[string]any
	for _, p := range resources(s.tpl, "AWS::Events::EventBusPolicy") {
		if get(p, "Properties", "StatementId") == "cdk-OrganizationForwardServiceEvents" {
			forward, _ = get(p, "Properties", "Statement").(map[string]any)
		}
	}
	if forward == nil {
		t.Fatalf("no OrganizationForwardServiceEvents statement")
	}
	wantCond := map[string]any{
		"StringEquals": map[string]any{
			"aws:PrincipalOrgID": "o-a1b2c3d4e5",
			"events:detail-type": []any{"GuardDuty Finding", "Access Analyzer Finding", "Unused Access Finding for IAM entities", "Internal Access Finding"},
		},
		"StringLike": map[string]any{"events:source": "aws.*"},
	}
	if !reflect.DeepEqual(forward["Condition"], wantCond) || forward["Action"] != "events:PutEvents" {
		t.Errorf("statement %v", forward)
	}
	onBus := 0
	for _, r := range resources(s.tpl, "AWS::Events::Rule") {
		if reflect.DeepEqual(get(r, "Properties", "EventBusName"), ref("ActivityBus7F826587")) {
			if src := get(r, "Properties", "EventPattern", "source", 0); src == "aws.guardduty" || src == "aws.access-analyzer" {
				onBus++
			}
		}
	}
	if onBus != 2 {
		t.Errorf("%d event-source rules on the activity bus, want 2", onBus)
	}
}

func TestMemberStack(t *testing.T) {
	var tpl map[string]any
	cdktest.Check(t, func() {
		m := stack.NewMember(cdktest.NewApp(nil), jsii.String("Activity-Aware-IDS-Member"), &stack.MemberProps{
			CentralBusArn: "arn:aws:events:eu-west-1:111122223333:event-bus/Activity-Aware-IDS-ActivityBus",
			Sources:       []string{"cloudtrail-logs", "guardduty"},
		})
		tpl = *assertions.Template_FromStack(m, nil).ToJSON()
	})
	if n := len(resources(tpl, "AWS::Events::Rule")); n != 1 {
		t.Errorf("%d rules, want 1 (the log group is not forwarded)", n)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("a member stack without an EventBridge source was accepted")
		}
	}()
	stack.NewMember(cdktest.NewApp(nil), jsii.String("Bad"), &stack.MemberProps{CentralBusArn: "arn:aws:events:eu-west-1:111122223333:event-bus/x", Sources: []string{"cloudtrail-logs"}})
}

// TestStackDeploysWithTheMinimumConcurrencyQuota: a new account's
// concurrency quota is 10 and a reservation that leaves less than 10
// unreserved is refused, so the template reserves none, whichever
// destinations are deployed. Pacing comes from every destination's two
// queues instead: each event source mapping runs at most 2 invocations,
// reports failed messages alone, and critical and high activities have
// their own queue.
func TestStackDeploysWithTheMinimumConcurrencyQuota(t *testing.T) {
	s := synthStack(t, nil)
	for id, fn := range resources(s.tpl, "AWS::Lambda::Function") {
		if v := get(fn, "Properties", "ReservedConcurrentExecutions"); v != nil {
			t.Errorf("function %s reserves concurrency %v", id, v)
		}
	}
	busID := cdktest.LogicalID(t, s.tpl, "AWS::Events::EventBus")
	// Each applies the notification policy under its own name in the one
	// state table, with its own minute sweep.
	for d, name := range map[string]string{"SlackDestination": "slack", "SignedWebhookDestination": "webhook",
		"PagerDutyDestination": "pagerduty", "TeamsDestination": "teams", "EmailDestination": "email"} {
		paced := cdktest.AssertPaced(t, s.tpl, d, busID)
		cdktest.AssertNotificationPolicy(t, s.tpl, paced.Function, "CorrelationTableD59B857F", name)
	}
	if n := len(resources(s.tpl, "AWS::Lambda::EventSourceMapping")); n != 10 {
		t.Fatalf("%d event source mappings, want two for each of five destinations", n)
	}
	var priority map[string]any
	for _, r := range resources(s.tpl, "AWS::Events::Rule") {
		if fmt.Sprint(get(r, "Properties", "Targets", 0, "Arn")) == fmt.Sprint(map[string]any{"Fn::GetAtt": []any{"SlackDestinationPriorityQueue68E89526", "Arn"}}) {
			priority = r
		}
	}
	// The priority rule takes critical and high at or above
	// SlackMinimumSeverity, from the mapping of severity classes.
	urgentList := map[string]any{"Fn::Split": []any{",", map[string]any{"Fn::FindInMap": []any{"SeverityClassesAtOrAbove", ref(stack.ParamSlackMinSeverity), "Urgent"}}}}
	if priority == nil || !reflect.DeepEqual(get(priority, "Properties", "EventPattern", "detail", "severity"), urgentList) {
		t.Fatalf("no rule routes critical and high activities to the priority queue: %v", priority)
	}
	if got := get(s.tpl, "Mappings", "SeverityClassesAtOrAbove", "info"); !reflect.DeepEqual(got, map[string]any{"Urgent": "critical,high", "Rest": "medium,low,info"}) {
		t.Errorf("severity classes at info = %v", got)
	}
	table := get(s.tpl, "Resources", "CorrelationTableD59B857F", "Properties")
	if get(table, "BillingMode") != "PAY_PER_REQUEST" || get(table, "TimeToLiveSpecification", "AttributeName") != "exp" ||
		get(table, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true ||
		get(table, "SSESpecification", "SSEEnabled") != true {
		t.Errorf("state table = %v", table)
	}
}

// TestStackEmailDestination: EmailTopic (none by default, or create) gates
// every resource of the e-mail destination, its alarms and outputs; the
// topic is encrypted under its own key and the function publishes to it
// only.
func TestStackEmailDestination(t *testing.T) {
	s := synthStack(t, nil)
	p := get(s.tpl, "Parameters", stack.ParamEmailTopic)
	if get(p, "Default") != stack.EmailTopicNone || !reflect.DeepEqual(get(p, "AllowedValues"), []any{"none", "create"}) {
		t.Errorf("parameter %s = %v", stack.ParamEmailTopic, p)
	}
	if m := get(s.tpl, "Parameters", stack.ParamEmailMinSeverity); get(m, "Default") != "info" {
		t.Errorf("parameter %s = %v", stack.ParamEmailMinSeverity, m)
	}
	wantCond := map[string]any{"Fn::Equals": []any{ref(stack.ParamEmailTopic), "create"}}
	if got := get(s.tpl, "Conditions", stack.ConditionEmail); !reflect.DeepEqual(got, wantCond) {
		t.Errorf("condition = %v", got)
	}
	topic := cdktest.FindID(t, s.tpl, "AWS::SNS::Topic", "EmailDestination")
	gated, alarms := 0, 0
	for id, r := range get(s.tpl, "Resources").(map[string]any) {
		inDest := strings.HasPrefix(id, "EmailDestination")
		c := get(r, "Condition")
		switch {
		case get(r, "Type") == "AWS::CloudWatch::Alarm" && c == stack.ConditionEmail:
			alarms++
		case (c == stack.ConditionEmail) != inDest:
			t.Errorf("resource %s has condition %v", id, c)
		case inDest:
			gated++
		}
	}
	if gated < 12 || alarms != 6 {
		t.Errorf("%d resources gated, %d alarms; want at least 12 and 6", gated, alarms)
	}
	assertHeartbeatAlarm(t, s.tpl, "EmailDestination", stack.ConditionEmail)
	if got := get(s.tpl, "Resources", topic, "Properties", "KmsMasterKeyId"); !reflect.DeepEqual(got, map[string]any{"Fn::GetAtt": []any{"EmailDestinationKey28E7F1E1", "Arn"}}) {
		t.Errorf("e-mail topic key = %v", got)
	}
	if pub := cdktest.StatementFor(t, s.tpl, "sns:Publish"); !reflect.DeepEqual(pub["Resource"], ref(topic)) {
		t.Errorf("sns:Publish on %v, want the e-mail topic only", pub["Resource"])
	}
	for _, o := range []string{"EmailTopicArn", "EmailDeadLetterQueueUrl", "EmailFailureQueueUrl"} {
		if got := get(s.tpl, "Outputs", o, "Condition"); got != stack.ConditionEmail {
			t.Errorf("output %s condition = %v", o, got)
		}
	}
}

// assertHeartbeatAlarm checks that the destination whose construct id is
// prefix has a heartbeat alarm under its condition: no canary recorded by
// its function in two heartbeat periods, missing data breaching.
func assertHeartbeatAlarm(t *testing.T, tpl map[string]any, prefix, condition string) {
	t.Helper()
	fnID := cdktest.FindID(t, tpl, "AWS::Lambda::Function", prefix)
	for _, a := range resources(tpl, "AWS::CloudWatch::Alarm") {
		p := a["Properties"]
		if get(p, "MetricName") != "CanaryDelivered" {
			continue
		}
		for _, d := range get(p, "Dimensions").([]any) {
			if get(d, "Name") == "Function" && reflect.DeepEqual(get(d, "Value"), ref(fnID)) {
				if a["Condition"] != condition || get(p, "TreatMissingData") != "breaching" {
					t.Errorf("%s's heartbeat alarm: condition %v, missing data %v", prefix, a["Condition"], get(p, "TreatMissingData"))
				}
				return
			}
		}
	}
	t.Errorf("%s has no heartbeat alarm", prefix)
}
