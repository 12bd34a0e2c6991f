package securityhub_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/sourcetest"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/securityhub"
)

func router(opts securityhub.Options) *awsevents.Router {
	return &awsevents.Router{Sources: []awsevents.Source{securityhub.New(opts)}}
}

// want is what one activity of a fixture must carry.
type want struct {
	idPrefix  string
	subject   string
	severity  activity.Severity
	detection string
	account   string
	resource  string
	fields    map[string]string
}

// TestFixtures reads every real fixture: one activity per finding that is a
// new alert, none for a resolved one.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file string
		opts securityhub.Options
		want []want
	}{{
		file: "cis-1.3-warning-medium.json",
		want: []want{{
			idPrefix:  "securityhub-arn:aws:securityhub:us-east-1:111111111111:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.3/finding/6e842abe-6cbf-4bc1-aa55-3b2ae63aabd6@2020-05-27T03:37:35.834Z",
			subject:   "1.3 Ensure credentials unused for 90 days or greater are disabled",
			severity:  activity.Medium,
			detection: "1.3",
			account:   "111111111111",
			fields:    map[string]string{"Product": "Security Hub", "Compliance": "WARNING", "Workflow": "NEW", "Resources": "AwsAccount AWS::::Account:111111111111"},
		}},
	}, {
		file: "afsbp-ec2.7-informational.json",
		want: []want{{severity: activity.Info, detection: "EC2.7", account: "111111111111"}},
	}, {
		file: "afsbp-iam.6-rds.4-critical-medium.json",
		want: []want{
			{subject: "IAM.6 Hardware MFA should be enabled for the root user", severity: activity.Critical, detection: "IAM.6"},
			{severity: activity.Medium, detection: "RDS.4", resource: "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:miotest-us-east-1c-final-snapshot"},
		},
	}, {
		file: "cis-1.6-multi-warning-resolved.json",
		want: []want{{severity: activity.Medium}}, // the RESOLVED, PASSED finding is no alert
	}, {
		file: "afsbp-autoscaling.1-low.json",
		want: []want{{severity: activity.Low, detection: "AutoScaling.1"}},
	}, {
		file: "cis-4.1-4.2-high.json",
		want: []want{{severity: activity.High}},
	}, {
		file: "guardduty-ssh-bruteforce-imported.json",
		want: []want{{
			subject:   "199.241.229.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356.",
			severity:  activity.Medium,
			detection: "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce",
			account:   "193043430472",
			resource:  "arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356",
			fields:    map[string]string{"Product": "GuardDuty", "Company": "Amazon"},
		}},
	}, {
		file: "guardduty-ssh-bruteforce-imported.json",
		opts: securityhub.Options{SkipProducts: []string{securityhub.ProductGuardDuty}},
		want: nil, // the GuardDuty source reports it
	}}
	for _, tt := range tests {
		t.Run(tt.file+"/"+strings.Join(tt.opts.SkipProducts, ","), func(t *testing.T) {
			acts, err := router(tt.opts).FromEvent(sourcetest.Read(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != len(tt.want) {
				t.Fatalf("%d activities, want %d", len(acts), len(tt.want))
			}
			for i, w := range tt.want {
				a := acts[i]
				if err := a.Validate(); err != nil {
					t.Fatalf("invalid: %v", err)
				}
				if slices.Contains(a.Tags, awsevents.TagUnrecognized) {
					t.Fatalf("unrecognized: %v", a.Fields)
				}
				if a.Source != securityhub.SourceName || !strings.HasPrefix(a.ID, "securityhub-arn:") || !strings.Contains(a.ID, "@") {
					t.Errorf("source %q id %q", a.Source, a.ID)
				}
				sourcetest.Head{
					ID: w.idPrefix, Subject: w.subject, Severity: w.severity, Detection: w.detection,
					Resource: w.resource, Fields: w.fields,
				}.Check(t, a)
				if w.account != "" && a.Account.ID != w.account {
					t.Errorf("account %q, want %q", a.Account.ID, w.account)
				}
				if len(a.Links) != 1 || !awsevents.IsConsoleURL(a.Links[0].URL) || !strings.HasSuffix(a.Links[0].URL, "/securityhub/home?region="+a.Region+"#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253A"+strings.ReplaceAll(url.QueryEscape(url.QueryEscape(strings.TrimPrefix(strings.Split(a.ID, "@")[0], "securityhub-"))), "+", "%20")) {
					t.Errorf("links %+v", a.Links)
				}
			}
		})
	}
}

// TestWorkflow edits a real finding's workflow, record and compliance state:
// suppressed, resolved, archived and passed findings are no new alerts.
func TestWorkflow(t *testing.T) {
	raw := string(sourcetest.Read(t, "afsbp-autoscaling.1-low.json"))
	tests := []struct {
		from, to string
		alert    bool
	}{
		{`"Status": "NEW"`, `"Status": "NOTIFIED"`, true},
		{`"Status": "NEW"`, `"Status": "SUPPRESSED"`, false},
		{`"Status": "NEW"`, `"Status": "RESOLVED"`, false},
		{`"RecordState": "ACTIVE"`, `"RecordState": "ARCHIVED"`, false},
		{`"Status": "FAILED"`, `"Status": "PASSED"`, false},
	}
	for _, tt := range tests {
		edited := strings.Replace(raw, tt.from, tt.to, 1)
		if edited == raw {
			t.Fatalf("fixture has no %q", tt.from)
		}
		acts, err := router(securityhub.Options{}).FromEvent([]byte(edited))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(acts) == 1; got != tt.alert {
			t.Errorf("%s: alert %v, want %v", tt.to, got, tt.alert)
		}
	}
}

func TestSeverityWithoutLabel(t *testing.T) {
	tests := []struct {
		n    float64
		want activity.Severity
	}{{0, activity.Info}, {1, activity.Low}, {39, activity.Low}, {40, activity.Medium}, {69, activity.Medium}, {70, activity.High}, {89, activity.High}, {90, activity.Critical}, {100, activity.Critical}}
	for _, tt := range tests {
		if got := securityhub.Severity("", tt.n, true); got != tt.want {
			t.Errorf("Severity(%v) = %s, want %s", tt.n, got, tt.want)
		}
	}
	if got := securityhub.Severity("High", 10, true); got != activity.High {
		t.Errorf("the label wins: %s", got)
	}
}

// TestUnreadableFinding keeps a finding that is not ASFF as an unrecognized
// activity, beside its readable sibling.
func TestUnreadableFinding(t *testing.T) {
	raw := strings.Replace(string(sourcetest.Read(t, "afsbp-iam.6-rds.4-critical-medium.json")), `"findings": [`, `"findings": [{"Title": 3},`, 1)
	acts, err := router(securityhub.Options{}).FromEvent([]byte(raw))
	if err != nil || len(acts) != 3 {
		t.Fatalf("%v, %d activities", err, len(acts))
	}
	if !slices.Contains(acts[0].Tags, awsevents.TagUnrecognized) || acts[0].Validate() != nil {
		t.Errorf("first %+v", acts[0])
	}
}
