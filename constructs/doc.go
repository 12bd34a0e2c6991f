// Package constructs is the home of the reusable Activity Aware IDS
// constructs, one package each, usable from any Go CDK app:
//
//   - activitybus: the EventBridge custom bus activities travel on, archived
//   - cloudtrailsource: the Lambda subscribed to CloudTrail's log group
//   - guarddutysource: GuardDuty findings from the default bus to activities
//   - securityhubsource: Security Hub (ASFF) findings from the default bus
//   - accessanalyzersource: IAM Access Analyzer findings from the default bus
//   - slackdestination: the webhook secret, the Slack Lambda, its rule and DLQs
//   - webhookdestination: signed webhooks, with the same rule, queues and secret
//   - routing: a destination's rule pattern from severities, detections, sources
//   - monitoring: alarms, the out-of-band topic, the heartbeat, the dashboard
//   - gofunction: a Go main package compiled into a provided.al2023 Lambda
//
// Each New returns an interface embedding constructs.Construct, with getters
// returning CDK interfaces (awslambda.IFunction, awssqs.IQueue, …) for the
// resources inside, and takes the bus as an awsevents.IEventBus. Pass those getters (or X.Node()) to CDK APIs such
// as awscdk.Stack_Of or awscdk.Tags_Of: jsii knows the construct embedded in
// the returned value, not the Go struct around it.
//
// Each package's tests sit beside it and assert the synthesized template.
package constructs
