package denial

import (
	"regexp"
	"strings"
)

// servicePrefixes lists the endpoint names whose IAM service prefix differs
// from the name. Every other endpoint's prefix is its name.
var servicePrefixes = map[string]string{
	"monitoring":           "cloudwatch",
	"email":                "ses",
	"tagging":              "tag",
	"cloudcontrolapi":      "cloudformation",
	"metering-marketplace": "aws-marketplace",
	"streams.dynamodb":     "dynamodb",
}

// operationActions lists, per IAM service prefix, the API operations (as
// CloudTrail names them) authorized by an IAM action of another name. S3's
// entries follow "Required permissions for Amazon S3 API operations" in the
// S3 user guide.
var operationActions = map[string]map[string]string{
	"s3": {
		"ListObjects":                        "ListBucket",
		"ListObjectsV2":                      "ListBucket",
		"HeadBucket":                         "ListBucket",
		"ListObjectVersions":                 "ListBucketVersions",
		"ListMultipartUploads":               "ListBucketMultipartUploads",
		"ListParts":                          "ListMultipartUploadParts",
		"ListBuckets":                        "ListAllMyBuckets",
		"HeadObject":                         "GetObject",
		"SelectObjectContent":                "GetObject",
		"CopyObject":                         "PutObject",
		"CreateMultipartUpload":              "PutObject",
		"UploadPart":                         "PutObject",
		"UploadPartCopy":                     "PutObject",
		"CompleteMultipartUpload":            "PutObject",
		"DeleteObjects":                      "DeleteObject",
		"GetBucketLifecycle":                 "GetLifecycleConfiguration",
		"GetBucketLifecycleConfiguration":    "GetLifecycleConfiguration",
		"PutBucketLifecycle":                 "PutLifecycleConfiguration",
		"PutBucketLifecycleConfiguration":    "PutLifecycleConfiguration",
		"DeleteBucketLifecycle":              "PutLifecycleConfiguration",
		"GetBucketEncryption":                "GetEncryptionConfiguration",
		"PutBucketEncryption":                "PutEncryptionConfiguration",
		"DeleteBucketEncryption":             "PutEncryptionConfiguration",
		"GetBucketCors":                      "GetBucketCORS",
		"PutBucketCors":                      "PutBucketCORS",
		"DeleteBucketCors":                   "PutBucketCORS",
		"DeleteBucketTagging":                "PutBucketTagging",
		"GetBucketReplication":               "GetReplicationConfiguration",
		"PutBucketReplication":               "PutReplicationConfiguration",
		"DeleteBucketReplication":            "PutReplicationConfiguration",
		"GetBucketNotificationConfiguration": "GetBucketNotification",
		"PutBucketNotificationConfiguration": "PutBucketNotification",
		"DeleteBucketPublicAccessBlock":      "PutBucketPublicAccessBlock",
		"DeleteBucketOwnershipControls":      "PutBucketOwnershipControls",
		"GetObjectLockConfiguration":         "GetBucketObjectLockConfiguration",
		"PutObjectLockConfiguration":         "PutBucketObjectLockConfiguration",
		"GetBucketAccelerateConfiguration":   "GetAccelerateConfiguration",
		"PutBucketAccelerateConfiguration":   "PutAccelerateConfiguration",
		"GetBucketAnalyticsConfiguration":    "GetAnalyticsConfiguration",
		"PutBucketAnalyticsConfiguration":    "PutAnalyticsConfiguration",
		"DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
		"GetBucketInventoryConfiguration":    "GetInventoryConfiguration",
		"PutBucketInventoryConfiguration":    "PutInventoryConfiguration",
		"DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
		"GetBucketMetricsConfiguration":      "GetMetricsConfiguration",
		"PutBucketMetricsConfiguration":      "PutMetricsConfiguration",
		"DeleteBucketMetricsConfiguration":   "PutMetricsConfiguration",
	},
	"lambda": {
		"Invoke":                   "InvokeFunction",
		"InvokeWithResponseStream": "InvokeFunction",
	},
}

// lambdaVersioned matches the API version suffix CloudTrail appends to Lambda
// operation names: CreateFunction20150331, GetFunction20150331v2.
var lambdaVersioned = regexp.MustCompile(`^([A-Za-z]+?)(\d{8})(v\d+)?$`)

// apiGatewayVerbs maps API Gateway management operations to the HTTP verb its
// IAM actions are named after (apigateway:GET, apigateway:POST, …).
var apiGatewayVerbs = []struct{ prefix, verb string }{
	{"Get", "GET"},
	{"Create", "POST"},
	{"Update", "PATCH"},
	{"Delete", "DELETE"},
	{"Put", "PUT"},
}

// ServicePrefix returns the IAM service prefix of a CloudTrail eventSource
// ("monitoring.amazonaws.com" → "cloudwatch"), or "" for an empty one.
func ServicePrefix(eventSource string) string {
	host := strings.ToLower(strings.TrimSpace(eventSource))
	for _, suffix := range []string{".amazonaws.com.cn", ".amazonaws.com"} {
		if h, ok := strings.CutSuffix(host, suffix); ok {
			host = h
			break
		}
	}
	if host == "" {
		return ""
	}
	if p, ok := servicePrefixes[host]; ok {
		return p
	}
	return host
}

// IAMAction returns the IAM action that authorizes a CloudTrail event
// ("s3.amazonaws.com", "ListObjectsV2" → "s3:ListBucket"), or "" when either
// part is missing. It knows the operations whose action has another name
// (S3, Lambda's versioned names, API Gateway's verbs); any other operation's
// action is the service prefix followed by the operation name.
func IAMAction(eventSource, eventName string) string {
	prefix := ServicePrefix(eventSource)
	name := strings.TrimSpace(eventName)
	if prefix == "" || name == "" {
		return ""
	}
	switch prefix {
	case "lambda":
		if m := lambdaVersioned.FindStringSubmatch(name); m != nil {
			name = m[1]
		}
	case "apigateway":
		for _, v := range apiGatewayVerbs {
			if strings.HasPrefix(name, v.prefix) {
				return prefix + ":" + v.verb
			}
		}
	}
	if action, ok := operationActions[prefix][name]; ok {
		name = action
	}
	return prefix + ":" + name
}
