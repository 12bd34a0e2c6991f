package sigma

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
)

func convertFile(t *testing.T, name string) (*Error, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Convert(name, data)
	var e *Error
	errors.As(err, &e)
	return e, err
}

// TestConvertTestdata converts the project's own test rules and runs the
// presets on records that must and must not match.
func TestConvertTestdata(t *testing.T) {
	for _, tc := range []struct {
		file           string
		id             string
		sev            activity.Severity
		technique      string
		match, nomatch []string
	}{
		{
			file: "trail_stopped.yml", id: "sigma-trail-stopped", sev: activity.High, technique: "T1562.008",
			match: []string{
				`{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}`,
				`{"eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","userIdentity":{"type":"Root"}}`,
			},
			nomatch: []string{
				`{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","errorCode":"AccessDenied"}`,
				`{"eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging"}`,
				`{"eventSource":"cloudtrail.amazonaws.com","eventName":"stoplogging"}`,
			},
		},
		{
			file: "lambda_public.yml", id: "sigma-lambda-public", sev: activity.High, technique: "T1546",
			match: []string{
				`{"eventSource":"lambda.amazonaws.com","eventName":"AddPermission20150331v2","requestParameters":{"principal":"*"}}`,
				`{"eventSource":"lambda.amazonaws.com","eventName":"CreateFunctionUrlConfig20211031","requestParameters":{"authType":"NONE"}}`,
			},
			nomatch: []string{
				`{"eventSource":"lambda.amazonaws.com","eventName":"AddPermission20150331v2","requestParameters":{"principal":"123456789012"}}`,
				`{"eventSource":"lambda.amazonaws.com","eventName":"CreateFunctionUrlConfig20211031","requestParameters":{"authType":"AWS_IAM"}}`,
				`{"eventSource":"s3.amazonaws.com","eventName":"AddPermission","requestParameters":{"principal":"*"}}`,
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Convert(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != tc.id || p.Severity != tc.sev || p.Technique != tc.technique || p.Pack != "sigma" {
				t.Errorf("preset %s %s %s %s, want %s %s %s sigma", p.ID, p.Severity, p.Technique, p.Pack, tc.id, tc.sev, tc.technique)
			}
			t.Logf("%s", p.Pattern)
			for _, rec := range tc.match {
				if !p.Compiled().Match([]byte(rec)) {
					t.Errorf("does not match %s", rec)
				}
			}
			for _, rec := range tc.nomatch {
				if p.Compiled().Match([]byte(rec)) {
					t.Errorf("matches %s", rec)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	for file, reason := range map[string]string{"keywords.yml": ReasonKeywords, "burst.yml": ReasonAggregation} {
		e, err := convertFile(t, file)
		if e == nil || e.Reason != reason || !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused for %q", file, err, reason)
		}
	}
	head := "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n"
	for _, tc := range []struct{ name, yaml, reason string }{
		{"other log source", "title: t\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: b\n  condition: s\n", ReasonLogSource},
		{"field reference", head + "  s:\n    userIdentity.arn|fieldref: requestParameters.userName\n  condition: s\n", ReasonFieldRef},
		{"field named as text", head + "  s:\n    userIdentity.arn|contains: responseElements.accessKey.userName\n  condition: s\n", ReasonFieldRef},
		{"question mark wildcard", head + "  s:\n    eventName: Get?ecret\n  condition: s\n", ReasonWildcard},
		{"base64 modifier", head + "  s:\n    eventName|base64: x\n  condition: s\n", ReasonModifier},
		{"object as text", head + "  s:\n    requestParameters|contains: Suspended\n  condition: s\n", ReasonNonScalar},
		{"through an array", head + "  s:\n    requestParameters.containerDefinitions.command|contains: x\n  condition: s\n", ReasonNonScalar},
		{"near", head + "  s:\n    eventName: x\n  condition: s near t\n", ReasonMalformed},
		{"no condition", head + "  s:\n    eventName: x\n", ReasonMalformed},
		{"unknown identifier", head + "  s:\n    eventName: x\n  condition: t\n", ReasonMalformed},
		{"not YAML", "title: [", ReasonMalformed},
		{"too long", head + "  s:\n    eventName:\n" + strings.Repeat("      - SomeRatherLongEventNameForTesting\n", 40) + "  condition: s\n", ReasonTooLong},
		{"regex outside the subset", head + "  s:\n    eventName|re: '(Get|Put)Secret'\n  condition: s\n", ReasonRegex},
	} {
		_, err := Convert(tc.name+".yml", []byte(tc.yaml))
		var e *Error
		if !errors.As(err, &e) || e.Reason != tc.reason {
			t.Errorf("%s: %v, want refused for %q", tc.name, err, tc.reason)
		}
	}
}

// TestCaseVariantsFallBack: when the case variants do not fit 1,024
// characters the rule converts in its exact case, and says so.
func TestCaseVariantsFallBack(t *testing.T) {
	var agents strings.Builder
	for i := range 25 {
		fmt.Fprintf(&agents, "      - SomeAgentValue%02d\n", i)
	}
	p, err := Convert("agents.yml", []byte("title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  s:\n    userAgent:\n"+agents.String()+"  condition: s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Notes, "exact case only") || !p.Compiled().Match([]byte(`{"userAgent":"SomeAgentValue24"}`)) || p.Compiled().Match([]byte(`{"userAgent":"someagentvalue24"}`)) {
		t.Errorf("notes %q, pattern %s", p.Notes, p.Pattern)
	}
	short, err := Convert("agent.yml", []byte("title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  s:\n    userAgent: SomeAgent\n  condition: s\n"))
	if err != nil || !short.Compiled().Match([]byte(`{"userAgent":"SOMEAGENT"}`)) || strings.Contains(short.Notes, "exact case only") {
		t.Errorf("short rule: %v, %+v", err, short)
	}
}

// TestModifiersAndConditions covers each construct the converter accepts on
// records that tell them apart.
func TestModifiersAndConditions(t *testing.T) {
	head := "title: t\nlevel: low\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n"
	for _, tc := range []struct {
		name, detection string
		match, nomatch  []string
	}{
		// Sigma is case-insensitive: the common case variants match, an
		// odd mixed case does not; event names are canonical.
		{"contains endswith all", "  s:\n    eventName|endswith: Policy\n    userAgent|contains|all: [Boto, Linux]\n  condition: s\n",
			[]string{`{"eventName":"PutRolePolicy","userAgent":"Boto3/1.0 Linux/5"}`, `{"eventName":"PutRolePolicy","userAgent":"boto3/1.0 linux/5"}`},
			[]string{`{"eventName":"PutRolePolicy","userAgent":"Boto3/1.0 Windows"}`, `{"eventName":"PutRolePolicyX","userAgent":"Boto Linux"}`,
				`{"eventName":"PutRolePolicy","userAgent":"bOTO3/1.0 Linux/5"}`, `{"eventName":"putrolepolicy","userAgent":"Boto3/1.0 Linux/5"}`}},
		{"null and exists", "  s:\n    errorCode: null\n    userIdentity.invokedBy|exists: false\n  condition: s\n",
			[]string{`{"eventName":"x"}`, `{"errorCode":null}`},
			[]string{`{"errorCode":"AccessDenied"}`, `{"userIdentity":{"invokedBy":"ec2.amazonaws.com"}}`}},
		{"not of a selection holds when the field is absent", "  s:\n    eventSource: iam.amazonaws.com\n  f:\n    userIdentity.type: AWSService\n  condition: s and not f\n",
			[]string{`{"eventSource":"iam.amazonaws.com"}`, `{"eventSource":"iam.amazonaws.com","userIdentity":{"type":"IAMUser"}}`},
			[]string{`{"eventSource":"iam.amazonaws.com","userIdentity":{"type":"AWSService"}}`}},
		{"all of and a list of maps", "  sel_a:\n    - eventName: A\n    - eventName: B\n  sel_b:\n    awsRegion: us-east-1\n  condition: all of sel_*\n",
			[]string{`{"eventName":"B","awsRegion":"us-east-1"}`},
			[]string{`{"eventName":"B","awsRegion":"eu-west-1"}`, `{"eventName":"C","awsRegion":"us-east-1"}`}},
		{"1 of them, a number and a boolean", "  a:\n    requestParameters.fromPort: 22\n  b:\n    requestParameters.enable: false\n  condition: 1 of them\n",
			[]string{`{"requestParameters":{"fromPort":22}}`, `{"requestParameters":{"enable":false}}`},
			[]string{`{"requestParameters":{"fromPort":23,"enable":true}}`}},
		{"regex and startswith", "  s:\n    userIdentity.arn|re: ':assumed-role/aws:'\n    eventName|startswith: Describe\n  condition: s\n",
			[]string{`{"eventName":"DescribeInstances","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}}`},
			[]string{`{"eventName":"ListInstances","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}}`}},
		{"quotes in a value stay literal", "  s:\n    userAgent: 'a\"b*'\n  condition: s\n",
			[]string{`{"userAgent":"a\"bc"}`},
			[]string{`{"userAgent":"ab"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Convert("rule.yml", []byte(head+tc.detection))
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range tc.match {
				if !p.Compiled().Match([]byte(rec)) {
					t.Errorf("%s does not match %s", p.Pattern, rec)
				}
			}
			for _, rec := range tc.nomatch {
				if p.Compiled().Match([]byte(rec)) {
					t.Errorf("%s matches %s", p.Pattern, rec)
				}
			}
		})
	}
}
