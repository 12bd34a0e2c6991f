// Command twochannels is a CDK app that reuses Activity Aware IDS's
// constructs: one activity bus, the CloudTrail source evaluating two detection
// presets, and two Slack destinations — every activity to the team channel,
// only high and critical ones to the on-call channel. The webhook URLs are
// existing Secrets Manager secrets.
//
// From a module that requires github.com/activity-aware/ids, with
// "app": "go mod download && go run ." in cdk.json: cdk synth.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/constructs/slackdestination"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	newStack(app)
	app.Synth(nil)
}

// newStack defines the SecurityAlerts stack in app.
func newStack(app awscdk.App) awscdk.Stack {
	stack := awscdk.NewStack(app, jsii.String("SecurityAlerts"), nil)

	bus := activitybus.New(stack, jsii.String("Activities"), nil)

	cloudtrailsource.New(stack, jsii.String("CloudTrail"), &cloudtrailsource.Props{
		Bus: bus.EventBus(),
		LogGroup: awslogs.LogGroup_FromLogGroupName(stack, jsii.String("CloudTrailLogs"),
			jsii.String("CloudTrail/DefaultLogGroup")),
		// The subscription filter pattern is derived from the presets.
		Detections: jsii.Strings("unauthorized-api-calls", "root-account-usage"),
	})

	team := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("TeamWebhook"), jsii.String("slack/security-team"))
	slackdestination.New(stack, jsii.String("TeamChannel"), &slackdestination.Props{
		Bus:           bus.EventBus(),
		WebhookSecret: team,
	})

	onCall := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OnCallWebhook"), jsii.String("slack/on-call"))
	slackdestination.New(stack, jsii.String("OnCallChannel"), &slackdestination.Props{
		Bus:           bus.EventBus(),
		WebhookSecret: onCall,
		Filter:        &routing.Filter{MinSeverity: jsii.String("high")},
	})
	return stack
}
