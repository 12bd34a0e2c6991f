// Package probe writes a recording of a leaked key probing an account, in
// the shape of the shared CloudTrail fixtures: an IAM user's 400 denied
// calls across seven services in three minutes, as enumeration tools make
// them (30 records delivered twice, as CloudTrail re-deliveries are), ten
// other people with two ordinary denials each, and one StopLogging by an
// admin in the middle. 451 records; the tests and tools/credentialprobe
// share it.
package probe

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The recording's figures.
const (
	ProbeCalls  = 400
	Redelivered = 30
	Others      = 10
	OtherCalls  = 2
	Records     = ProbeCalls + Redelivered + Others*OtherCalls + 1
	// Prober is the probing principal's ARN.
	Prober = "arn:aws:iam::111122223333:user/ci-deployer"
	// ProberIP is where every probing call comes from.
	ProberIP = "198.51.100.23"
	// StopLoggingID is the eventID of the admin's StopLogging.
	StopLoggingID = "probe-stoplogging-0001"
)

// Start is the time of the first probing call.
var Start = time.Date(2026, 11, 20, 9, 0, 5, 0, time.UTC)

// services are the probed services and how many calls each gets, with the
// actions an enumeration tool tries and the error code each service answers.
var services = []struct {
	source, code string
	n            int
	actions      []string
}{
	{"iam.amazonaws.com", "AccessDenied", 90, []string{"ListUsers", "ListRoles", "GetAccountAuthorizationDetails", "ListPolicies", "GetUser", "ListAccessKeys"}},
	{"ec2.amazonaws.com", "Client.UnauthorizedOperation", 80, []string{"DescribeInstances", "DescribeVpcs", "DescribeSecurityGroups", "DescribeSnapshots"}},
	{"lambda.amazonaws.com", "AccessDenied", 60, []string{"ListFunctions20150331", "GetAccountSettings20160819"}},
	{"s3.amazonaws.com", "AccessDenied", 50, []string{"ListBuckets", "GetBucketPolicy", "GetBucketAcl"}},
	{"dynamodb.amazonaws.com", "AccessDeniedException", 40, []string{"ListTables", "DescribeLimits"}},
	{"rds.amazonaws.com", "AccessDenied", 40, []string{"DescribeDBInstances", "DescribeDBClusters"}},
	{"kms.amazonaws.com", "AccessDeniedException", 40, []string{"ListKeys", "ListAliases"}},
}

func record(i int, t time.Time, user, ip, agent, source, action, code string) map[string]any {
	arn := "arn:aws:iam::111122223333:user/" + user
	svc, _, _ := strings.Cut(source, ".")
	r := map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{
			"type": "IAMUser", "principalId": fmt.Sprintf("AIDA%016X", len(user)*7919), "arn": arn,
			"accountId": "111122223333", "accessKeyId": fmt.Sprintf("AKIA%016X", len(user)*104729), "userName": user,
		},
		"eventTime": t.UTC().Format(time.RFC3339), "eventSource": source, "eventName": action,
		"awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": agent,
		"errorCode": code,
		"errorMessage": fmt.Sprintf("User: %s is not authorized to perform: %s:%s because no identity-based policy allows the %s:%s action",
			arn, svc, action, svc, action),
		"requestParameters": nil, "responseElements": nil,
		"requestID": fmt.Sprintf("req-%06d", i), "eventID": fmt.Sprintf("probe-%s-%06d", user, i),
		"readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
		"recipientAccountId": "111122223333", "eventCategory": "Management",
	}
	return r
}

// Log returns the recording as a CloudTrail log file ({"Records":[...]}).
func Log() []byte {
	var recs []map[string]any
	// The probe: 400 calls in three minutes (one every 450 ms), the services
	// in turn as enumeration tools probe them in parallel, each cycling
	// through its actions.
	left := make([]int, len(services))
	for k, s := range services {
		left[k] = s.n
	}
	for i := 0; i < ProbeCalls; {
		for k, s := range services {
			if left[k] == 0 {
				continue
			}
			n := s.n - left[k]
			left[k]--
			recs = append(recs, record(i, Start.Add(time.Duration(i)*450*time.Millisecond), "ci-deployer", ProberIP,
				"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux lang/python#3.12 exec-env/enumerate-iam", s.source, s.actions[n%len(s.actions)], s.code))
			i++
		}
	}
	// Re-deliveries: every 13th probing record comes again, later.
	for k := 0; k < Redelivered; k++ {
		recs = append(recs, recs[k*13])
	}
	// Ten other people, two ordinary denials each, within the same minutes.
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	for p, name := range people {
		for k := range OtherCalls {
			t := Start.Add(time.Duration(20*p+70*k) * time.Second)
			recs = append(recs, record(1000+p*10+k, t, name, fmt.Sprintf("203.0.113.%d", 10+p),
				"aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023", "s3.amazonaws.com", "GetObject", "AccessDenied"))
		}
	}
	// The admin stops the trail half way through the probe.
	stop := stopLogging()
	// In the middle of the file, as a log file of those minutes would hold it.
	mid := len(recs) / 2
	recs = append(recs[:mid], append([]map[string]any{stop}, recs[mid:]...)...)
	return mustJSON(map[string]any{"Records": recs})
}

// stopLogging is the admin's StopLogging record.
func stopLogging() map[string]any {
	return map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{
			"type": "AssumedRole", "principalId": "AROAEXAMPLEADMIN:pat", "arn": "arn:aws:sts::111122223333:assumed-role/Admin/pat",
			"accountId": "111122223333", "accessKeyId": "ASIAEXAMPLEADMIN0001",
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROAEXAMPLEADMIN", "arn": "arn:aws:iam::111122223333:role/Admin", "accountId": "111122223333", "userName": "Admin"},
				"attributes":    map[string]any{"mfaAuthenticated": "true", "creationDate": Start.Format(time.RFC3339)},
			},
		},
		"eventTime": Start.Add(90 * time.Second).Format(time.RFC3339), "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
		"awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.44", "userAgent": "console.amazonaws.com",
		"requestParameters": map[string]any{"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events"},
		"responseElements":  nil, "requestID": "req-stop", "eventID": StopLoggingID, "readOnly": false,
		"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management",
	}
}

// Burst returns n denied calls by the probing IAM user, one every 100 ms
// across the probed services, with the admin's StopLogging (a critical
// activity once self-trail-or-log-group-stopped labels it) in the middle:
// n+1 CloudTrail records, one JSON document each.
func Burst(n int) []string {
	out := make([]string, 0, n+1)
	for i := range n {
		s := services[i%len(services)]
		r := record(i, Start.Add(time.Duration(i)*100*time.Millisecond), "ci-deployer", ProberIP,
			"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux lang/python#3.12 exec-env/enumerate-iam",
			s.source, s.actions[(i/len(services))%len(s.actions)], s.code)
		b, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		out = append(out, string(b))
		if i == n/2-1 {
			out = append(out, string(mustJSON(stopLogging())))
		}
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and numbers
	}
	return b
}
