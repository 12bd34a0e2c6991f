// Package constructs is the home of the reusable Activity Aware IDS
// constructs, one package each, usable from any Go CDK app:
//
//   - activitybus: the EventBridge custom bus activities travel on, archived
//   - cloudtrailsource: the Lambda subscribed to CloudTrail's log group
//   - slackdestination: the webhook secret, the Slack Lambda, its rule and DLQs
//   - gofunction: a Go main package compiled into a provided.al2023 Lambda
//
// This package itself holds only their tests, which share one CDK runtime.
package constructs
