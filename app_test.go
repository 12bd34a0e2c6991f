package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/activity-aware/ids/stack"
)

// synthesized is one app synthesized with bundling skipped, shared by the
// tests that read it.
type synthesized struct {
	stack awscdk.Stack
	tpl   map[string]any
}

var synthCache = map[string]*synthesized{}

// synthApp synthesizes the app with context (plus skipped bundling) once per
// distinct context.
func synthApp(t *testing.T, context map[string]any) *synthesized {
	t.Helper()
	key := fmt.Sprint(context)
	if s, ok := synthCache[key]; ok {
		return s
	}
	s := &synthesized{}
	cdktest.Check(t, func() {
		s.stack = newApp(cdktest.NewApp(context))
		s.tpl = *assertions.Template_FromStack(s.stack, nil).ToJSON()
	})
	synthCache[key] = s
	return s
}

// TestCdkNag checks that the app applies the cdk-nag AwsSolutions pack and
// that our stack passes it: a deliberately non-compliant queue in a second
// stack of the same app must be reported (so the check runs at all), and our
// stack must have no unsuppressed error or warning.
func TestCdkNag(t *testing.T) {
	solutions := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	findings := func(s awscdk.Stack) map[string][]string {
		annotations := assertions.Annotations_FromStack(s)
		out := map[string][]string{}
		for level, found := range map[string]*[]*cxapi.SynthesisMessage{
			"error":   annotations.FindError(jsii.String("*"), solutions),
			"warning": annotations.FindWarning(jsii.String("*"), solutions),
		} {
			for _, m := range *found {
				out[level] = append(out[level], fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
			}
		}
		return out
	}
	for _, context := range []map[string]any{
		nil,
		{"decodeAuthorizationMessages": true, "organizationId": "o-a1b2c3d4e5", "detections": []any{"unauthorized-api-calls"}},
		{"sources": "cloudtrail-logs,guardduty,securityhub,accessanalyzer"},
		{"sources": "cloudtrail-events", "cloudTrailEventsRegion": "eu-west-1"},
		{"kinesisLogs": true, "organizationId": "o-a1b2c3d4e5"},
		{"kinesisLogs": "true"},
		{"sources": "cloudtrail-events,guardduty,securityhub,accessanalyzer", "organizationId": "o-a1b2c3d4e5", "centralBusArn": "arn:aws:events:eu-west-1:111122223333:event-bus/Activity-Aware-IDS-ActivityBus"},
	} {
		t.Run(fmt.Sprint(context), func(t *testing.T) {
			// GIVEN the app, beside a stack with a queue that is neither
			// TLS-only nor backed by a dead-letter queue
			app := cdktest.NewApp(context)
			bad := awscdk.NewStack(app, jsii.String("NonCompliant"), nil)
			awssqs.NewQueue(bad, jsii.String("PlainQueue"), nil)
			var ours awscdk.Stack
			cdktest.Check(t, func() { ours = newApp(app) })
			// THEN the pack reports the queue
			got := strings.Join(findings(bad)["error"], "\n")
			for _, rule := range []string{"AwsSolutions-SQS3", "AwsSolutions-SQS4"} {
				if !strings.Contains(got, rule) {
					t.Errorf("cdk-nag reports no %s on the non-compliant queue (is the pack applied?); errors: %q", rule, got)
				}
			}
			// AND nothing in ours (the main stack and any other it brings)
			checked := 0
			for _, child := range *app.Node().Children() {
				if !*awscdk.Stack_IsStack(child) {
					continue
				}
				s := awscdk.Stack_Of(child)
				if *s.StackName() == "NonCompliant" {
					continue
				}
				checked++
				for level, ms := range findings(s) {
					for _, m := range ms {
						t.Errorf("cdk-nag %s in %s at %s", level, *s.StackName(), m)
					}
				}
			}
			if want := 1 + strings.Count(fmt.Sprint(context), "cloudTrailEventsRegion") + strings.Count(fmt.Sprint(context), "centralBusArn"); checked != want || ours == nil {
				t.Errorf("checked %d stacks, want %d", checked, want)
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
		{
			name: "packs and exclusions",
			context: map[string]any{"detections": []any{"cis", "threats"},
				"detectionExclusions": map[string]any{"lambda-code-overwritten": []any{"arn:aws:sts::*:assumed-role/deploy/*"}}},
			wantName: "Activity-Aware-IDS",
			want: stack.Props{Detections: []string{"cis", "threats"},
				DetectionExclusions: map[string][]string{"lambda-code-overwritten": {"arn:aws:sts::*:assumed-role/deploy/*"}}},
		},
		{
			name:     "exclusions as JSON text",
			context:  map[string]any{"detectionExclusions": `{"ssm-send-command":["arn:aws:iam::*:role/patching"]}`},
			wantName: "Activity-Aware-IDS",
			want:     stack.Props{DetectionExclusions: map[string][]string{"ssm-send-command": {"arn:aws:iam::*:role/patching"}}},
		},
		{name: "bad exclusions", context: map[string]any{"detectionExclusions": map[string]any{"x": "arn"}}, wantErr: true},
		{
			name:     "sources",
			context:  map[string]any{"sources": "guardduty, cloudtrail-logs"},
			wantName: "Activity-Aware-IDS",
			want:     stack.Props{Sources: []string{"guardduty", "cloudtrail-logs"}},
		},
		{
			name:     "kinesis logs",
			context:  map[string]any{"kinesisLogs": "true", "organizationId": "o-a1b2c3d4e5"},
			wantName: "Activity-Aware-IDS",
			want:     stack.Props{KinesisLogs: true, OrganizationID: "o-a1b2c3d4e5"},
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
