package denial

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/activity-aware/ids/activity"
)

func perm(action, resource, reason string) *activity.Permission {
	a := &activity.Activity{Action: &activity.Action{
		Service: "iam.amazonaws.com", Name: "Unused", ErrorCode: "AccessDenied", Outcome: activity.Denied,
		ErrorMessage: "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: " + action + " on resource: " + resource + " " + reasonWording[reason],
	}}
	return Explain(a, nil)
}

// reasonWording is AWS's wording of some reason classes, to build
// permissions the way Explain does.
var reasonWording = map[string]string{
	ReasonNoIdentityPolicy:           "because no identity-based policy allows the action",
	ReasonNoResourcePolicy:           "because no resource-based policy allows the action",
	ReasonExplicitDenySCP:            "with an explicit deny in a service control policy",
	ReasonExplicitDenyIdentityPolicy: "with an explicit deny in an identity-based policy",
	ReasonUnknown:                    "",
}

func TestSuggest(t *testing.T) {
	const (
		bucket  = "arn:aws:s3:::reports"
		object  = "arn:aws:s3:::reports/2026/q1.csv"
		policy  = "arn:aws:iam::123456789012:policy/Admin"
		table   = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
		secret  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
		anyRsrc = "*"
	)
	scp := perm("s3:DeleteBucket", bucket, ReasonExplicitDenySCP)
	explicit := perm("iam:DeletePolicy", policy, ReasonExplicitDenyIdentityPolicy)
	unknown := perm("sts:AssumeRole", "arn:aws:iam::123456789012:role/Deploy", ReasonUnknown)
	perms := []*activity.Permission{
		perm("s3:ListBucket", bucket, ReasonNoIdentityPolicy),
		perm("s3:GetObject", object, ReasonNoIdentityPolicy),
		scp,
		perm("iam:GetPolicy", policy, ReasonNoIdentityPolicy),
		perm("iam:GetPolicyVersion", policy, ReasonNoIdentityPolicy),
		perm("iam:GetPolicy", policy, ReasonNoIdentityPolicy), // duplicate
		perm("IAM:GetPolicy", policy, ReasonNoIdentityPolicy), // same action, other spelling of the prefix
		explicit,
		perm("dynamodb:PutItem", table, ReasonNoIdentityPolicy),
		perm("dynamodb:GetItem", table, ReasonNoIdentityPolicy),
		perm("secretsmanager:GetSecretValue", secret, ReasonNoResourcePolicy),
		nil,
		unknown,
		perm("organizations:LeaveOrganization", anyRsrc, ReasonNoIdentityPolicy),
		perm("s3:ListBucket", bucket, ReasonNoIdentityPolicy), // duplicate
	}
	doc, notFixable := Suggest(perms)

	want := PolicyDocument{Version: "2012-10-17", Statement: []Statement{
		{Effect: "Allow", Action: []string{"organizations:LeaveOrganization"}, Resource: []string{"*"}},
		{Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:PutItem"}, Resource: []string{table}},
		{Effect: "Allow", Action: []string{"iam:GetPolicy", "iam:GetPolicyVersion"}, Resource: []string{policy}},
		{Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{bucket}},
		{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{object}},
		{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{secret}},
	}}
	if !reflect.DeepEqual(doc, want) {
		got, _ := json.MarshalIndent(doc, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("Suggest document:\n%s\nwant:\n%s", got, exp)
	}
	if wantNF := []*activity.Permission{scp, explicit, unknown}; !reflect.DeepEqual(notFixable, wantNF) {
		t.Errorf("not fixable = %+v, want %+v", notFixable, wantNF)
	}
}

// TestSuggestSharesStatements: resources whose action sets are equal share one
// statement, and no action is granted on a resource it was not denied on.
func TestSuggestSharesStatements(t *testing.T) {
	a := "arn:aws:ec2:us-west-2:111111111111:instance/*"
	b := "arn:aws:ec2:us-west-2:222222222222:instance/*"
	doc, notFixable := Suggest([]*activity.Permission{
		perm("ec2:GetPasswordData", b, ReasonNoIdentityPolicy),
		perm("ec2:GetPasswordData", a, ReasonNoIdentityPolicy),
		perm("ec2:DescribeInstanceAttribute", a, ReasonNoIdentityPolicy),
		perm("ec2:DescribeInstanceAttribute", b, ReasonNoIdentityPolicy),
		perm("ec2:StopInstances", b, ReasonNoIdentityPolicy),
	})
	want := []Statement{
		{Effect: "Allow", Action: []string{"ec2:DescribeInstanceAttribute", "ec2:GetPasswordData"}, Resource: []string{a}},
		{Effect: "Allow", Action: []string{"ec2:DescribeInstanceAttribute", "ec2:GetPasswordData", "ec2:StopInstances"}, Resource: []string{b}},
	}
	if !reflect.DeepEqual(doc.Statement, want) || len(notFixable) != 0 {
		t.Errorf("statements %+v, not fixable %v; want %+v", doc.Statement, notFixable, want)
	}

	doc, _ = Suggest([]*activity.Permission{
		perm("ec2:GetPasswordData", b, ReasonNoIdentityPolicy),
		perm("ec2:GetPasswordData", a, ReasonNoIdentityPolicy),
	})
	shared := []Statement{{Effect: "Allow", Action: []string{"ec2:GetPasswordData"}, Resource: []string{a, b}}}
	if !reflect.DeepEqual(doc.Statement, shared) {
		t.Errorf("statements %+v, want %+v", doc.Statement, shared)
	}
}

func TestSuggestEmpty(t *testing.T) {
	doc, notFixable := Suggest(nil)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"Version":"2012-10-17","Statement":[]}` || notFixable != nil {
		t.Errorf("Suggest(nil) = %s, %v", b, notFixable)
	}
}

// TestLiteralWildcardsFromTheEvent: an S3 object key an attacker chose to be
// "*", "?" or a policy variable must not become a wildcard grant, neither in
// the statement Explain suggests (the Slack message) nor in Suggest's document;
// AWS's own "every instance" form stays.
func TestLiteralWildcardsFromTheEvent(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"*", "arn:aws:s3:::prod-bucket/${*}"},
		{"reports/?.csv", "arn:aws:s3:::prod-bucket/reports/${?}.csv"},
		{"${aws:username}/*", "arn:aws:s3:::prod-bucket/${$}{aws:username}/${*}"},
		{"plain.txt", "arn:aws:s3:::prod-bucket/plain.txt"},
	}
	for _, tt := range tests {
		params, _ := json.Marshal(map[string]string{"bucketName": "prod-bucket", "key": tt.key})
		a := &activity.Activity{Action: &activity.Action{Service: "s3.amazonaws.com", Name: "GetObject", ErrorCode: "AccessDenied", ErrorMessage: "Access Denied", Outcome: activity.Denied}}
		raw := []byte(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":` + string(params) + `}`)
		p := Explain(a, parsed(t, raw))
		if p == nil || !p.Fixable || !ReasonNotStated(p) {
			t.Fatalf("key %q: %+v, want a fixable permission whose reason AWS did not state", tt.key, p)
		}
		var st struct{ Resource string }
		if err := json.Unmarshal(p.Statement, &st); err != nil || st.Resource != tt.want {
			t.Errorf("key %q: statement %s, want Resource %q", tt.key, p.Statement, tt.want)
		}
		doc, _ := Suggest([]*activity.Permission{p})
		if len(doc.Statement) != 1 || doc.Statement[0].Resource[0] != tt.want {
			t.Errorf("key %q: Suggest %+v, want Resource %q", tt.key, doc.Statement, tt.want)
		}
	}
	kept := perm("ec2:GetPasswordData", "arn:aws:ec2:us-west-2:111111111111:instance/*", ReasonNoIdentityPolicy)
	if doc, _ := Suggest([]*activity.Permission{kept}); doc.Statement[0].Resource[0] != kept.Resource {
		t.Errorf("AWS's instance/* became %q", doc.Statement[0].Resource[0])
	}
	if got := IAMLiteral(AnyResource); got != "*" {
		t.Errorf("IAMLiteral(%q) = %q", AnyResource, got)
	}
}
