package denial

import "testing"

func TestIAMAction(t *testing.T) {
	tests := []struct {
		source, event, want string
	}{
		// The default rule: endpoint name + event name.
		{"iam.amazonaws.com", "GetPolicy", "iam:GetPolicy"},
		{"ec2.amazonaws.com", "RunInstances", "ec2:RunInstances"},
		{"sts.amazonaws.com", "AssumeRole", "sts:AssumeRole"},
		{"kms.amazonaws.com", "Decrypt", "kms:Decrypt"},
		{"dynamodb.amazonaws.com", "PutItem", "dynamodb:PutItem"},
		{"secretsmanager.amazonaws.com", "GetSecretValue", "secretsmanager:GetSecretValue"},
		{"ec2-instance-connect.amazonaws.com", "SendSSHPublicKey", "ec2-instance-connect:SendSSHPublicKey"},
		{"s3.amazonaws.com", "GetObject", "s3:GetObject"},
		{"s3.amazonaws.com", "PutBucketPolicy", "s3:PutBucketPolicy"},
		// Endpoints whose IAM prefix differs.
		{"monitoring.amazonaws.com", "PutMetricData", "cloudwatch:PutMetricData"},
		{"email.amazonaws.com", "SendEmail", "ses:SendEmail"},
		{"tagging.amazonaws.com", "GetResources", "tag:GetResources"},
		{"cloudcontrolapi.amazonaws.com", "CreateResource", "cloudformation:CreateResource"},
		{"streams.dynamodb.amazonaws.com", "GetRecords", "dynamodb:GetRecords"},
		// China regions' endpoints and stray case or spaces.
		{"ec2.amazonaws.com.cn", "DescribeInstances", "ec2:DescribeInstances"},
		{" IAM.amazonaws.com ", " ListUsers ", "iam:ListUsers"},
		// S3 operations authorized by another action.
		{"s3.amazonaws.com", "ListObjects", "s3:ListBucket"},
		{"s3.amazonaws.com", "ListObjectsV2", "s3:ListBucket"},
		{"s3.amazonaws.com", "HeadBucket", "s3:ListBucket"},
		{"s3.amazonaws.com", "HeadObject", "s3:GetObject"},
		{"s3.amazonaws.com", "ListObjectVersions", "s3:ListBucketVersions"},
		{"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"},
		{"s3.amazonaws.com", "CreateMultipartUpload", "s3:PutObject"},
		{"s3.amazonaws.com", "CopyObject", "s3:PutObject"},
		{"s3.amazonaws.com", "DeleteObjects", "s3:DeleteObject"},
		{"s3.amazonaws.com", "DeleteBucketEncryption", "s3:PutEncryptionConfiguration"},
		{"s3.amazonaws.com", "GetBucketLifecycle", "s3:GetLifecycleConfiguration"},
		{"s3.amazonaws.com", "DeleteBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
		{"s3.amazonaws.com", "PutBucketCors", "s3:PutBucketCORS"},
		// Lambda's versioned names.
		{"lambda.amazonaws.com", "CreateFunction20150331", "lambda:CreateFunction"},
		{"lambda.amazonaws.com", "GetFunction20150331v2", "lambda:GetFunction"},
		{"lambda.amazonaws.com", "ListFunctions20150331", "lambda:ListFunctions"},
		{"lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", "lambda:UpdateFunctionConfiguration"},
		{"lambda.amazonaws.com", "PutFunctionConcurrency20171031", "lambda:PutFunctionConcurrency"},
		{"lambda.amazonaws.com", "Invoke", "lambda:InvokeFunction"},
		{"lambda.amazonaws.com", "AddPermission", "lambda:AddPermission"},
		// API Gateway's management actions are named after HTTP verbs.
		{"apigateway.amazonaws.com", "GetRestApis", "apigateway:GET"},
		{"apigateway.amazonaws.com", "CreateDeployment", "apigateway:POST"},
		{"apigateway.amazonaws.com", "UpdateStage", "apigateway:PATCH"},
		{"apigateway.amazonaws.com", "DeleteRestApi", "apigateway:DELETE"},
		// Missing parts.
		{"", "DeleteBucket", ""},
		{"s3.amazonaws.com", "", ""},
	}
	for _, tt := range tests {
		if got := IAMAction(tt.source, tt.event); got != tt.want {
			t.Errorf("IAMAction(%q, %q) = %q, want %q", tt.source, tt.event, got, tt.want)
		}
	}
}
