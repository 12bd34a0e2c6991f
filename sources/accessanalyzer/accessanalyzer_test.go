package accessanalyzer_test

import (
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/sourcetest"
	"github.com/activity-aware/ids/sources/accessanalyzer"
	"github.com/activity-aware/ids/sources/awsevents"
)

var router = &awsevents.Router{Sources: []awsevents.Source{accessanalyzer.Source{}}}

// TestFixtures reads every finding type of the guide's examples.
func TestFixtures(t *testing.T) {
	tests := []struct {
		sourcetest.Head
		file string
		link string
	}{{
		file: "external-access-s3.json",
		Head: sourcetest.Head{
			ID:        "accessanalyzer-22222222-dcba-4444-dcba-333333333333@2019-11-21T01:14:07Z",
			Subject:   "arn:aws:s3:::amzn-s3-demo-bucket grants AWS 999988887777 (s3:GetObject)",
			Severity:  activity.Medium,
			Detection: "ExternalAccess",
			Resource:  "arn:aws:s3:::amzn-s3-demo-bucket",
			Fields:    map[string]string{"Principal": "AWS 999988887777", "Actions": "s3:GetObject", "Public": "false", "Condition": ""},
		},
		link: "https://us-west-2.console.aws.amazon.com/access-analyzer/home?region=us-west-2#/findings/details/MyAnalyzer/22222222-dcba-4444-dcba-333333333333",
	}, {
		file: "external-access-error.json",
		Head: sourcetest.Head{
			Subject:   "IAM Access Analyzer could not analyze arn:aws:s3:::amzn-s3-demo-bucket (ACCESS_DENIED)",
			Severity:  activity.Low,
			Detection: "ExternalAccess",
			Fields:    map[string]string{"Error": "ACCESS_DENIED"},
		},
	}, {
		file: "internal-access-role.json",
		Head: sourcetest.Head{
			Subject:   "arn:aws:s3:::critical-data grants AWS arn:aws:iam::111122223333:role/MyRole_6 (s3:GetObject)",
			Severity:  activity.Low,
			Detection: "InternalAccess",
			Fields:    map[string]string{"Access type": "INTRA_ACCOUNT"},
		},
	}, {
		file: "unused-permission-role.json",
		Head: sourcetest.Head{
			ID:        "accessanalyzer-b8ae0460-5d29-4922-b92a-ba956c986277@2023-09-29T17:29:18.758Z",
			Subject:   "UnusedPermission on arn:aws:iam::111122223333:role/FindingIntegTestFakeRole: 1 unused actions",
			Severity:  activity.Low,
			Detection: "UnusedPermission",
			Resource:  "arn:aws:iam::111122223333:role/FindingIntegTestFakeRole",
			Fields:    map[string]string{"Unused actions": "1", "Unused services": "0"},
		},
		link: "https://us-west-2.console.aws.amazon.com/access-analyzer/home?region=us-west-2#/findings/details/integTestLongLivingAnalyzer-DO-NOT-DELETE/b8ae0460-5d29-4922-b92a-ba956c986277",
	}, {
		file: "unused-role-error.json",
		Head: sourcetest.Head{
			Severity:  activity.Low,
			Detection: "UnusedIAMRole",
			Fields:    map[string]string{"Error": "INTERNAL_ERROR"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := sourcetest.One(t, router, sourcetest.Read(t, tt.file))
			if a.Source != accessanalyzer.SourceName || len(a.Resources) > 1 {
				t.Errorf("source %q, resources %+v", a.Source, a.Resources)
			}
			tt.Check(t, a)
			if tt.link != "" && (len(a.Links) != 1 || a.Links[0].URL != tt.link) {
				t.Errorf("links %+v, want %s", a.Links, tt.link)
			}
		})
	}
}

// TestStatusAndShape edits the guide's external-access example: only active,
// undeleted findings alert; public access is high; a condition is shown; an
// analyzer name that is not one gets no link.
func TestStatusAndShape(t *testing.T) {
	raw := string(sourcetest.Read(t, "external-access-s3.json"))
	tests := []struct {
		from, to  string
		alert     bool
		severity  activity.Severity
		condition string
		link      bool
	}{
		{`"status": "ACTIVE"`, `"status": "ARCHIVED"`, false, "", "", false},
		{`"status": "ACTIVE"`, `"status": "RESOLVED"`, false, "", "", false},
		{`"isDeleted": false`, `"isDeleted": true`, false, "", "", false},
		{`"isPublic": false`, `"isPublic": true`, true, activity.High, "", true},
		{`"condition": {}`, `"condition": {"aws:SourceVpc": "vpc-12345678", "aws:PrincipalOrgID": "o-a1b2c3d4e5"}`, true, activity.Medium, "aws:PrincipalOrgID=o-a1b2c3d4e5, aws:SourceVpc=vpc-12345678", true},
		{`analyzer/MyAnalyzer`, `analyzer/My#Analyzer`, true, activity.Medium, "", false},
	}
	for _, tt := range tests {
		edited := strings.Replace(raw, tt.from, tt.to, 1)
		if edited == raw {
			t.Fatalf("fixture has no %q", tt.from)
		}
		acts, err := router.FromEvent([]byte(edited))
		if err != nil {
			t.Fatal(err)
		}
		if (len(acts) == 1) != tt.alert {
			t.Fatalf("%s: %d activities, alert %v", tt.to, len(acts), tt.alert)
		}
		if !tt.alert {
			continue
		}
		a := acts[0]
		if a.Severity != tt.severity || sourcetest.Field(a, "Condition") != tt.condition || (len(a.Links) == 1) != tt.link {
			t.Errorf("%s: severity %s condition %q links %v", tt.to, a.Severity, sourcetest.Field(a, "Condition"), a.Links)
		}
	}
}
