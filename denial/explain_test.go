package denial

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
)

// testRecord is the part of a CloudTrail record the tests turn into an
// activity, as the CloudTrail source does (encoding/json matches keys
// case-insensitively, like the source).
type testRecord struct {
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	AWSRegion    string `json:"awsRegion"`
	ErrorCode    any    `json:"errorCode"`
	ErrorMessage any    `json:"errorMessage"`
	UserIdentity struct {
		ARN string `json:"arn"`
	} `json:"userIdentity"`
	Resources []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
}

// parsed is raw as the CloudTrail source parses it for its enrichers; nil
// for no record.
func parsed(t testing.TB, raw []byte) *fastjson.Value {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return v
}

// activityOf builds the activity of one raw CloudTrail record with the fields
// Explain reads, classifying the outcome by the source's rule (AccessDenied*,
// *AccessDenied and *UnauthorizedOperation codes are denials).
func activityOf(t testing.TB, raw []byte) *activity.Activity {
	t.Helper()
	var r testRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("record: %v", err)
	}
	code, msg := text(r.ErrorCode), text(r.ErrorMessage)
	outcome := activity.Success
	switch {
	case strings.HasPrefix(code, "AccessDenied"), strings.HasSuffix(code, "AccessDenied"), strings.HasSuffix(code, "UnauthorizedOperation"):
		outcome = activity.Denied
	case code != "":
		outcome = activity.Failed
	}
	a := &activity.Activity{
		Region: r.AWSRegion,
		Actor:  &activity.Actor{ARN: r.UserIdentity.ARN},
		Action: &activity.Action{Service: r.EventSource, Name: r.EventName, ErrorCode: code, ErrorMessage: msg, Outcome: outcome},
	}
	for _, res := range r.Resources {
		a.Resources = append(a.Resources, activity.Resource{ARN: res.ARN, Type: res.Type})
	}
	return a
}

func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// testdataRecords returns the records of testdata/denials.json (copied from
// the shared fixtures) by eventName.
func testdataRecords(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("testdata/denials.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for _, raw := range file.Records {
		var r testRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out[r.EventName] = raw
	}
	return out
}

type want struct {
	action, resource, reason string
	guardrail, fixable       bool
	encoded                  bool
}

func check(t *testing.T, p *activity.Permission, w want) {
	t.Helper()
	if p == nil {
		t.Fatal("Explain returned nil for a denial")
	}
	if p.Action != w.action || p.Resource != w.resource || p.Reason != w.reason {
		t.Errorf("got action %q resource %q reason %q, want %q %q %q", p.Action, p.Resource, p.Reason, w.action, w.resource, w.reason)
	}
	if p.Guardrail != w.guardrail || p.Fixable != w.fixable || p.Encoded != w.encoded {
		t.Errorf("got guardrail %v fixable %v encoded %v, want %v %v %v", p.Guardrail, p.Fixable, p.Encoded, w.guardrail, w.fixable, w.encoded)
	}
	if p.ReasonText != ReasonText(w.reason) || p.ReasonText == "" {
		t.Errorf("reason text %q, want %q", p.ReasonText, ReasonText(w.reason))
	}
	if !w.fixable {
		if p.Statement != nil {
			t.Errorf("statement %s for a denial an Allow cannot fix", p.Statement)
		}
		return
	}
	var st map[string]string
	if err := json.Unmarshal(p.Statement, &st); err != nil {
		t.Fatalf("statement %s: %v", p.Statement, err)
	}
	if st["Effect"] != "Allow" || st["Action"] != w.action || st["Resource"] != w.resource || len(st) != 3 {
		t.Errorf("statement %s, want Allow %s on %s", p.Statement, w.action, w.resource)
	}
}

// TestExplainRecordedDenials runs real denied records (from the shared
// fixtures, copied into testdata) through Explain.
func TestExplainRecordedDenials(t *testing.T) {
	records := testdataRecords(t)
	tests := []struct {
		event string
		want  want
	}{
		// IAM's wording without a reason (a sanitized detection-rule event).
		{"GetRole", want{action: "iam:GetRole", resource: "arn:aws:iam::123456789012:role/FooBar", reason: ReasonUnknown}},
		// Organizations: "on resource: *" stated by AWS.
		{"LeaveOrganization", want{action: "organizations:LeaveOrganization", resource: "*", reason: ReasonNoIdentityPolicy, fixable: true}},
		// Lambda: versioned event name, action stated.
		{"ListFunctions20150331", want{action: "lambda:ListFunctions", resource: "*", reason: ReasonNoIdentityPolicy, fixable: true}},
		// EC2 Client.UnauthorizedOperation with a stated reason and an encoded message.
		{"RunInstances", want{action: "ec2:RunInstances", resource: "arn:aws:ec2:ca-south-3r:751353041310:instance/*", reason: ReasonNoIdentityPolicy, fixable: true, encoded: true}},
		// EC2 UnauthorizedOperation without any message.
		{"ModifyImageAttribute", want{action: "ec2:ModifyImageAttribute", resource: "*", reason: ReasonUnknown}},
		// STS: action and role stated, no reason.
		{"AssumeRole", want{action: "sts:AssumeRole", resource: "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role", reason: ReasonUnknown}},
		// RDS: "User is not authorized to perform: rds:…", resource from requestParameters.resourceArn.
		{"StopActivityStream", want{action: "rds:StopActivityStream", resource: "arn:aws:rds:us-east-1:123456789012:cluster:production-aurora", reason: ReasonUnknown}},
		// S3 "Access Denied": action mapped, bucket from requestParameters; AWS
		// did not say why, so the allow is suggested (ReasonNotStated).
		{"DeleteBucketEncryption", want{action: "s3:PutEncryptionConfiguration", resource: "arn:aws:s3:::sensitive-data-bucket", reason: ReasonUnknown, fixable: true}},
		// S3 denial without a message.
		{"PutBucketPolicy", want{action: "s3:PutBucketPolicy", resource: "arn:aws:s3:::example-bucket", reason: ReasonUnknown, fixable: true}},
		// CloudTrail network activity event: VpceAccessDenied, object from bucket and key.
		{"GetObject", want{action: "s3:GetObject", resource: "arn:aws:s3:::example-bucket/sensitive-file.txt", reason: ReasonVPCEndpointPolicy, guardrail: true}},
		// Secrets Manager "User is not authorized": action mapped, secret from secretId.
		{"GetSecretValue", want{action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-west-2:123123123123:secret:secret1", reason: ReasonUnknown}},
		// A service whose name has a dash.
		{"SendSSHPublicKey", want{action: "ec2-instance-connect:SendSSHPublicKey", resource: "arn:aws:ec2:us-west-2:111122223333:instance/i-abcdef01234567890", reason: ReasonNoIdentityPolicy, fixable: true}},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			raw, ok := records[tt.event]
			if !ok {
				t.Fatalf("testdata has no %s record", tt.event)
			}
			check(t, Explain(activityOf(t, raw), parsed(t, raw)), tt.want)
		})
	}
}

// TestExplainMessages covers the access-denied wordings of AWS's documentation
// ("Troubleshoot access denied error messages" in the IAM user guide, the S3
// 403 guide) and of the services the recorded data lacks.
func TestExplainMessages(t *testing.T) {
	const user = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: "
	const role = "User: arn:aws:sts::123456789012:assumed-role/app/session is not authorized to perform: "
	tests := []struct {
		name                 string
		service, event, code string
		msg                  string
		resources            []string
		params               string
		want                 want
	}{
		{name: "scp", service: "codecommit.amazonaws.com", event: "ListRepositories", code: "AccessDeniedException",
			msg:  user + "codecommit:ListRepositories with an explicit deny in a service control policy",
			want: want{action: "codecommit:ListRepositories", resource: "*", reason: ReasonExplicitDenySCP, guardrail: true}},
		{name: "scp implicit", service: "monitoring.amazonaws.com", event: "GetMetricData", code: "AccessDenied",
			msg:  role + "cloudwatch:GetMetricData because no service control policy allows the cloudwatch:GetMetricData action",
			want: want{action: "cloudwatch:GetMetricData", resource: "*", reason: ReasonNoSCP, guardrail: true}},
		{name: "vpc endpoint through scp", service: "sns.amazonaws.com", event: "Publish", code: "AuthorizationError",
			msg:  "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a VPC endpoint policy transitively through a service control policy",
			want: want{action: "sns:Publish", resource: "arn:aws:sns:us-east-1:444455556666:role-name-2", reason: ReasonExplicitDenySCP, guardrail: true}},
		{name: "rcp s3 quoted resource", service: "s3.amazonaws.com", event: "PutObject", code: "AccessDenied",
			msg:  "User: arn:aws:sts::112233445566:assumed-role/AWSReservedSSO_PermSetName_0123456789abcdef/abcde is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::test-intelligent-tiering-class-only/standard.txt\" with an explicit deny in a resource control policy",
			want: want{action: "s3:PutObject", resource: "arn:aws:s3:::test-intelligent-tiering-class-only/standard.txt", reason: ReasonExplicitDenyRCP, guardrail: true}},
		{name: "vpc endpoint implicit", service: "codecommit.amazonaws.com", event: "ListRepositories", code: "AccessDeniedException",
			msg:  user + "codecommit:ListRepositories because no VPC endpoint policy allows the codecommit:ListRepositories action",
			want: want{action: "codecommit:ListRepositories", resource: "*", reason: ReasonNoVPCEndpointPolicy, guardrail: true}},
		{name: "vpc endpoint explicit", service: "codedeploy.amazonaws.com", event: "ListDeployments", code: "AccessDeniedException",
			msg:  user + "codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a VPC endpoint policy",
			want: want{action: "codedeploy:ListDeployments", resource: "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*", reason: ReasonExplicitDenyVPCEndpointPolicy, guardrail: true}},
		{name: "permissions boundary implicit", service: "codedeploy.amazonaws.com", event: "ListDeployments", code: "AccessDeniedException",
			msg:  user + "codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no permissions boundary allows the codedeploy:ListDeployments action",
			want: want{action: "codedeploy:ListDeployments", resource: "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*", reason: ReasonNoPermissionsBoundary, guardrail: true}},
		{name: "permissions boundary explicit", service: "sagemaker.amazonaws.com", event: "ListModels", code: "AccessDeniedException",
			msg:  "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: sagemaker:ListModels with an explicit deny in a permissions boundary",
			want: want{action: "sagemaker:ListModels", resource: "*", reason: ReasonExplicitDenyPermissionsBoundary, guardrail: true}},
		{name: "session policy implicit", service: "codecommit.amazonaws.com", event: "ListRepositories", code: "AccessDeniedException",
			msg:  user + "codecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action",
			want: want{action: "codecommit:ListRepositories", resource: "*", reason: ReasonNoSessionPolicy, guardrail: true}},
		{name: "session policy explicit (AWS's 'sessions policy')", service: "codedeploy.amazonaws.com", event: "ListDeployments", code: "AccessDeniedException",
			msg:  user + "codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a sessions policy",
			want: want{action: "codedeploy:ListDeployments", resource: "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*", reason: ReasonExplicitDenySessionPolicy, guardrail: true}},
		{name: "secrets manager resource policy implicit", service: "secretsmanager.amazonaws.com", event: "GetSecretValue", code: "AccessDeniedException",
			msg:       user + "secretsmanager:GetSecretValue because no resource-based policy allows the secretsmanager:GetSecretValue action",
			resources: []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"},
			want:      want{action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", reason: ReasonNoResourcePolicy, fixable: true}},
		{name: "secrets manager resource policy explicit", service: "secretsmanager.amazonaws.com", event: "GetSecretValue", code: "AccessDeniedException",
			msg:  user + "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource-based policy",
			want: want{action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:*", reason: ReasonExplicitDenyResourcePolicy}},
		{name: "secrets manager resource named, not an ARN", service: "secretsmanager.amazonaws.com", event: "GetSecretValue", code: "AccessDeniedException",
			msg:    role + "secretsmanager:GetSecretValue on resource: prod/db because no identity-based policy allows the secretsmanager:GetSecretValue action",
			params: `{"secretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"}`,
			want:   want{action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", reason: ReasonNoIdentityPolicy, fixable: true}},
		{name: "role trust implicit (AWS's wording)", service: "sts.amazonaws.com", event: "AssumeRole", code: "AccessDenied",
			msg:  user + "sts:AssumeRole because the role trust policy allows the sts:AssumeRole action",
			want: want{action: "sts:AssumeRole", resource: "*", reason: ReasonNoRoleTrustPolicy, fixable: true}},
		{name: "role trust explicit", service: "sts.amazonaws.com", event: "AssumeRole", code: "AccessDenied",
			msg:  "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: sts:AssumeRole with an explicit deny in the role trust policy",
			want: want{action: "sts:AssumeRole", resource: "*", reason: ReasonExplicitDenyRoleTrustPolicy}},
		{name: "sts web identity", service: "sts.amazonaws.com", event: "AssumeRoleWithWebIdentity", code: "AccessDenied",
			msg:  "Not authorized to perform sts:AssumeRoleWithWebIdentity",
			want: want{action: "sts:AssumeRoleWithWebIdentity", resource: "*", reason: ReasonUnknown}},
		{name: "identity explicit", service: "codedeploy.amazonaws.com", event: "ListDeployments", code: "AccessDeniedException",
			msg:  user + "codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in an identity-based policy",
			want: want{action: "codedeploy:ListDeployments", resource: "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*", reason: ReasonExplicitDenyIdentityPolicy}},
		{name: "iam identity implicit", service: "iam.amazonaws.com", event: "GetPolicy", code: "AccessDenied",
			msg:  role + "iam:GetPolicy on resource: policy arn:aws:iam::123456789012:policy/Admin because no identity-based policy allows the iam:GetPolicy action",
			want: want{action: "iam:GetPolicy", resource: "arn:aws:iam::123456789012:policy/Admin", reason: ReasonNoIdentityPolicy, fixable: true}},
		{name: "s3 block public access", service: "s3.amazonaws.com", event: "PutBucketPolicy", code: "AccessDenied",
			msg:  "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::amzn-s3-demo-bucket\" because public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access",
			want: want{action: "s3:PutBucketPolicy", resource: "arn:aws:s3:::amzn-s3-demo-bucket", reason: ReasonS3BlockPublicAccess, guardrail: true}},
		{name: "s3 old Access Denied, ListObjectsV2", service: "s3.amazonaws.com", event: "ListObjectsV2", code: "AccessDenied",
			msg: "Access Denied", params: `{"bucketName":"amzn-s3-demo-bucket","list-type":"2","prefix":""}`,
			want: want{action: "s3:ListBucket", resource: "arn:aws:s3:::amzn-s3-demo-bucket", reason: ReasonUnknown, fixable: true}},
		{name: "s3 HeadObject, resources from a data event", service: "s3.amazonaws.com", event: "HeadObject", code: "AccessDenied",
			msg:       "Access Denied",
			resources: []string{"arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/report.csv"},
			want:      want{action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket/report.csv", reason: ReasonUnknown, fixable: true}},
		{name: "s3 HeadBucket, requestParameters as a JSON string", service: "s3.amazonaws.com", event: "HeadBucket", code: "AccessDenied",
			msg: "Access Denied", params: `"{\"bucketName\":\"amzn-s3-demo-bucket\"}"`,
			want: want{action: "s3:ListBucket", resource: "arn:aws:s3:::amzn-s3-demo-bucket", reason: ReasonUnknown, fixable: true}},
		{name: "kms resource policy", service: "kms.amazonaws.com", event: "Decrypt", code: "AccessDeniedException",
			msg:  role + "kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action",
			want: want{action: "kms:Decrypt", resource: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", reason: ReasonNoResourcePolicy, fixable: true}},
		{name: "kms on this resource", service: "kms.amazonaws.com", event: "GenerateDataKey", code: "AccessDeniedException",
			msg:       role + "kms:GenerateDataKey on this resource because no identity-based policy allows the kms:GenerateDataKey action",
			resources: []string{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			want:      want{action: "kms:GenerateDataKey", resource: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", reason: ReasonNoIdentityPolicy, fixable: true}},
		{name: "kms without an action", service: "kms.amazonaws.com", event: "Decrypt", code: "AccessDeniedException",
			msg:    "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
			params: `{"keyId":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`,
			want:   want{action: "kms:Decrypt", resource: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", reason: ReasonUnknown}},
		{name: "dynamodb", service: "dynamodb.amazonaws.com", event: "PutItem", code: "AccessDeniedException",
			msg:  role + "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Orders because no identity-based policy allows the dynamodb:PutItem action",
			want: want{action: "dynamodb:PutItem", resource: "arn:aws:dynamodb:us-east-1:123456789012:table/Orders", reason: ReasonNoIdentityPolicy, fixable: true}},
		{name: "dynamodb explicit", service: "dynamodb.amazonaws.com", event: "DeleteTable", code: "AccessDeniedException",
			msg:  role + "dynamodb:DeleteTable on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Orders with an explicit deny in an identity-based policy",
			want: want{action: "dynamodb:DeleteTable", resource: "arn:aws:dynamodb:us-east-1:123456789012:table/Orders", reason: ReasonExplicitDenyIdentityPolicy}},
		{name: "lambda resource policy", service: "lambda.amazonaws.com", event: "Invoke", code: "AccessDeniedException",
			msg:  role + "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:my-function because no resource-based policy allows the lambda:InvokeFunction action",
			want: want{action: "lambda:InvokeFunction", resource: "arn:aws:lambda:us-east-1:123456789012:function:my-function", reason: ReasonNoResourcePolicy, fixable: true}},
		{name: "lambda without message", service: "lambda.amazonaws.com", event: "GetFunction20150331v2", code: "AccessDenied",
			params: `{"functionName":"arn:aws:lambda:us-east-1:123456789012:function:my-function"}`,
			want:   want{action: "lambda:GetFunction", resource: "arn:aws:lambda:us-east-1:123456789012:function:my-function", reason: ReasonUnknown}},
		{name: "ec2 stated, no encoded message", service: "ec2.amazonaws.com", event: "DescribeInstances", code: "Client.UnauthorizedOperation",
			msg:  "You are not authorized to perform this operation. " + role + "ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action",
			want: want{action: "ec2:DescribeInstances", resource: "*", reason: ReasonNoIdentityPolicy, fixable: true}},
		{name: "ec2 encoded only", service: "ec2.amazonaws.com", event: "TerminateInstances", code: "Client.UnauthorizedOperation",
			msg:  "You are not authorized to perform this operation. Encoded authorization failure message: 4sHk-3JdPq_1y8_k2v0Zx",
			want: want{action: "ec2:TerminateInstances", resource: "*", reason: ReasonEncoded, encoded: true}},
		{name: "ec2 no detail", service: "ec2.amazonaws.com", event: "StopInstances", code: "Client.UnauthorizedOperation",
			msg:  "You are not authorized to perform this operation.",
			want: want{action: "ec2:StopInstances", resource: "*", reason: ReasonUnknown}},
		{name: "no event source, no action stated", event: "DeleteBucket", code: "AccessDenied", msg: "Access Denied",
			want: want{resource: "*", reason: ReasonUnknown}},
		{name: "no event source, identity reason: nothing to suggest", event: "DeleteBucket", code: "AccessDenied",
			msg:  "User: arn:aws:iam::123456789012:user/x is not authorized because no identity-based policy allows it",
			want: want{resource: "*", reason: ReasonNoIdentityPolicy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &activity.Activity{
				Region: "us-east-1",
				Actor:  &activity.Actor{ARN: "arn:aws:sts::123456789012:assumed-role/app/session"},
				Action: &activity.Action{Service: tt.service, Name: tt.event, ErrorCode: tt.code, ErrorMessage: tt.msg, Outcome: activity.Denied},
			}
			for _, r := range tt.resources {
				a.Resources = append(a.Resources, activity.Resource{ARN: r})
			}
			var raw []byte
			if tt.params != "" {
				raw = []byte(`{"requestParameters":` + tt.params + `}`)
			}
			check(t, Explain(a, parsed(t, raw)), tt.want)
		})
	}
}

func TestExplainNotDenial(t *testing.T) {
	tests := []struct {
		name string
		a    *activity.Activity
	}{
		{"nil", nil},
		{"no action", &activity.Activity{}},
		{"success", &activity.Activity{Action: &activity.Action{Service: "iam.amazonaws.com", Name: "GetRole", Outcome: activity.Success}}},
		{"other failure", &activity.Activity{Action: &activity.Action{Service: "iam.amazonaws.com", Name: "CreateUser", ErrorCode: "EntityAlreadyExists", Outcome: activity.Failed}}},
		{"dry run", &activity.Activity{Action: &activity.Action{Service: "ec2.amazonaws.com", Name: "RunInstances", ErrorCode: "Client.DryRunOperation", ErrorMessage: "Request would have succeeded, but DryRun flag is set.", Outcome: activity.Failed}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := Explain(tt.a, nil); p != nil {
				t.Errorf("Explain = %+v, want nil", p)
			}
		})
	}
}

// TestExplainOutcomeUnset: an activity whose source did not classify the
// outcome is still recognized as a denial by its code or wording, and the
// record fills in what the activity lacks.
func TestExplainOutcomeUnset(t *testing.T) {
	raw := []byte(`{"eventsource":"iam.amazonaws.com","eventname":"ListUsers","errorcode":"AccessDenied","errormessage":"User: arn:aws:iam::123456789012:user/tester is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::123456789012:user/ because no identity-based policy allows the iam:ListUsers action"}`)
	p := Explain(&activity.Activity{}, parsed(t, raw))
	check(t, p, want{action: "iam:ListUsers", resource: "arn:aws:iam::123456789012:user/", reason: ReasonNoIdentityPolicy, fixable: true})
}

func TestEnricher(t *testing.T) {
	records := testdataRecords(t)
	raw := records["LeaveOrganization"]
	a := activityOf(t, raw)
	Enricher{}.Enrich(a, raw, parsed(t, raw))
	if a.Permission == nil || a.Permission.Action != "organizations:LeaveOrganization" {
		t.Fatalf("Permission = %+v", a.Permission)
	}
	ok := &activity.Activity{Action: &activity.Action{Service: "iam.amazonaws.com", Name: "GetRole", Outcome: activity.Success}}
	Enricher{}.Enrich(ok, nil, nil)
	if ok.Permission != nil {
		t.Errorf("Permission set on a success: %+v", ok.Permission)
	}
}

func TestEveryPhraseHasAKey(t *testing.T) {
	for _, p := range reasonPhrases {
		if !slices.ContainsFunc(phraseKeys[:], func(k string) bool { return strings.Contains(p.phrase, k) }) {
			t.Errorf("phrase %q holds none of %q: classify would never find it", p.phrase, phraseKeys)
		}
	}
}

func TestEveryReasonHasText(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		if ReasonText(r) == "" {
			t.Errorf("%s has no text", r)
		}
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
	}
	if len(seen) != len(reasonClasses) {
		t.Errorf("Reasons lists %d classes, %d defined", len(seen), len(reasonClasses))
	}
	for _, p := range reasonPhrases {
		if !seen[p.reason] {
			t.Errorf("phrase %q maps to undefined reason %q", p.phrase, p.reason)
		}
	}
}

func TestEncodedMessage(t *testing.T) {
	msg := "You are not authorized to perform this operation. Encoded authorization failure message: T-kSWIRFn32_fxSg yNzo"
	got, ok := EncodedMessage(msg)
	if !ok || got != "T-kSWIRFn32_fxSg" {
		t.Errorf("EncodedMessage = %q, %v", got, ok)
	}
	if _, ok := EncodedMessage("Access Denied"); ok {
		t.Error("EncodedMessage found a message in \"Access Denied\"")
	}
}

// FuzzParseMessageEncoded: parseMessage's cheap check for an encoded message
// agrees with EncodedMessage's regular expression.
func FuzzParseMessageEncoded(f *testing.F) {
	for _, m := range []string{"Encoded authorization failure message: T-kSWIRFn32", "encoded authorization failure message:\n\tabc", "Encoded authorization failure message: ", "ENCODED AUTHORIZATION FAILURE MESSAGE:x", "İ encoded authorization failure message: ab", "Access Denied"} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		if _, ok := EncodedMessage(msg); parseMessage(msg).encoded != ok {
			t.Fatalf("parseMessage(%q).encoded = %v, EncodedMessage says %v", msg, !ok, ok)
		}
	})
}

// FuzzToLower holds toLower to strings.ToLower, whatever the bytes: ASCII a
// word at a time (each of 'A'-'Z' and the bytes around them, '@' and '['),
// anything else as the standard library lowers it.
func FuzzToLower(f *testing.F) {
	for _, s := range []string{"", "A", "@AZ[az`{", "User: arn:aws:iam::1:user/X is not authorized to perform: EC2:RunInstances",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{", "Ünïcode ÀB İ", "ASCII THEN \xff", "\x7f\x00ZZZZZZZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := toLower(s), strings.ToLower(s); got != want {
			t.Fatalf("toLower(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestToLowerAllocates: a message without an upper-case letter is returned
// as it is, as strings.ToLower returns it; one with any is lowered into one
// new string.
func TestToLowerAllocates(t *testing.T) {
	for msg, want := range map[string]float64{
		"access denied for this request, no identity-based policy allows it": 0,
		"access denied for this request, no identity-based policy allows iT": 1,
		"Access denied": 1, "denied": 0, "": 0,
	} {
		if got := testing.AllocsPerRun(20, func() { _ = toLower(msg) }); got != want {
			t.Errorf("toLower(%q): %v allocations, want %v", msg, got, want)
		}
	}
}
