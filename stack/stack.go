// Package stack provides the deployable Activity Aware IDS stack: the
// activity bus, the CloudTrail source subscribed to CloudTrail's log group and
// a Slack destination, configured by CloudFormation parameters so one
// template installs in any account.
package stack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/constructs/accessanalyzersource"
	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/cloudtraileventssource"
	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/emaildestination"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/guarddutysource"
	"github.com/activity-aware/ids/constructs/memberforwarding"
	"github.com/activity-aware/ids/constructs/monitoring"
	"github.com/activity-aware/ids/constructs/pagerdutydestination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/constructs/securityhubsource"
	"github.com/activity-aware/ids/constructs/slackdestination"
	"github.com/activity-aware/ids/constructs/teamsdestination"
	"github.com/activity-aware/ids/constructs/webhookdestination"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
)

// Parameter names and defaults of the template.
const (
	ParamLogGroupName   = "CloudTrailLogGroupName"
	ParamFilterPattern  = "CloudTrailFilterPattern"
	ParamWebhookURL     = "SlackWebhookUrl"
	ParamAlarmEmail     = "AlarmEmail"
	ParamBurstThreshold = "DenialBurstThreshold"
	ParamBurstWindow    = "DenialBurstWindowMinutes"
	ParamNotifyWindow   = "NotificationWindowMinutes"
	ParamNotifyGroupBy  = "NotificationGroupBy"
	DefaultLogGroupName = "CloudTrail/DefaultLogGroup"
	FilterPatternMaxLen = 1024
	// WebhookURLPattern admits Slack's incoming-webhook URLs only (commercial
	// and GovSlack, /services/ paths, as the function's own check), so a
	// mistyped or hostile URL fails at deploy.
	WebhookURLPattern = `^https://hooks\.slack(-gov)?\.com/services/[^\s]+$`
	// SlackAppSecretPattern admits a Slack app's secret as the function
	// checks it: a bot token and a channel id, in this order.
	SlackAppSecretPattern = `^\{\s*"botToken"\s*:\s*"xoxb-[0-9A-Za-z-]{10,250}"\s*,\s*"channel"\s*:\s*"[CGD][0-9A-Z]{8,20}"\s*\}$`
	// SlackSecretPattern is the SlackWebhookUrl parameter's: either mode.
	SlackSecretPattern   = WebhookURLPattern + "|" + SlackAppSecretPattern
	AlarmEmailPattern    = `^$|^[^\s@]+@[^\s@]+\.[^\s@]+$`
	conditionSubscribeID = "HasCloudTrailLogGroup"
	conditionEmailID     = "HasAlarmEmail"

	// ParamSlackMinSeverity is the least severity posted to Slack (default
	// info: everything; the heartbeat canary passes whatever it says).
	ParamSlackMinSeverity = "SlackMinimumSeverity"

	// The signed webhook: deployed when its URL is given.
	ParamSignedWebhookURL         = "SignedWebhookUrl"
	ParamSignedWebhookMinSeverity = "SignedWebhookMinSeverity"
	SignedWebhookURLPattern       = `^$|^https://[^\s"\\]+$`
	ConditionSignedWebhook        = "HasSignedWebhook"

	// PagerDuty: deployed when its routing key is given.
	ParamPagerDutyRoutingKey   = "PagerDutyRoutingKey"
	ParamPagerDutyMinSeverity  = "PagerDutyMinSeverity"
	PagerDutyRoutingKeyPattern = `^$|^[A-Za-z0-9]{32}$`
	ConditionPagerDuty         = "HasPagerDuty"

	// Microsoft Teams: deployed when its Workflows webhook URL is given.
	ParamTeamsWebhookURL   = "TeamsWebhookUrl"
	ParamTeamsMinSeverity  = "TeamsMinSeverity"
	TeamsWebhookURLPattern = `^$|^https://[^\s"\\]+$`
	ConditionTeams         = "HasTeams"

	// E-mail through SNS: deployed when EmailTopic is "create"; the
	// topic's e-mail subscriptions are the user's to add.
	ParamEmailTopic       = "EmailTopic"
	ParamEmailMinSeverity = "EmailMinSeverity"
	EmailTopicCreate      = "create"
	EmailTopicNone        = "none"
	ConditionEmail        = "HasEmailDestination"
)

// Props configures the stack. All fields beyond StackProps are optional.
type Props struct {
	awscdk.StackProps
	// Detections are the detection preset ids or packs the CloudTrail
	// source evaluates. Default: the source's default.
	Detections []string
	// DetectionExclusions: preset id → principal ARNs that preset ignores
	// (see cloudtrailsource.Props.DetectionExclusions).
	DetectionExclusions map[string][]string
	// DecodeAuthorizationMessages lets the Slack destination decode the
	// encoded authorization messages of denied calls. Default false.
	DecodeAuthorizationMessages bool
	// OrganizationID, when set, lets every account of that AWS Organization
	// publish activities on the bus.
	OrganizationID string
	// ModuleDir is where the Lambda functions are compiled from. Default: the
	// app's working directory.
	ModuleDir string
	// Sources are the sources the stack deploys, by name (Source*). Default
	// [SourceCloudTrailLogs].
	Sources []string
	// KinesisLogs adds the organization's CloudTrail logs path to the
	// cloudtrail-logs source: a CloudWatch Logs destination admitting
	// OrganizationID's accounts (else this account), its KMS-encrypted
	// Kinesis stream and the event source mapping to the source
	// (cloudtrailsource.KinesisProps, sized in docs/SCALING.md).
	KinesisLogs bool
}

// The source names Props.Sources (and the sources context) accept.
const (
	// SourceCloudTrailLogs subscribes to the CloudTrail log group.
	SourceCloudTrailLogs = "cloudtrail-logs"
	// SourceGuardDuty reads GuardDuty findings from the default bus.
	SourceGuardDuty = "guardduty"
	// SourceSecurityHub reads Security Hub findings from the default bus
	// (without GuardDuty's when SourceGuardDuty is on too).
	SourceSecurityHub = "securityhub"
	// SourceAccessAnalyzer reads IAM Access Analyzer findings from the
	// default bus.
	SourceAccessAnalyzer = "accessanalyzer"
	// SourceCloudTrailEvents reads CloudTrail's API calls and sign-ins from
	// the default bus (all management events, read-only ones included).
	SourceCloudTrailEvents = "cloudtrail-events"
)

// SourceNames lists every source name, in the order the stack defines them.
var SourceNames = []string{SourceCloudTrailLogs, SourceCloudTrailEvents, SourceGuardDuty, SourceSecurityHub, SourceAccessAnalyzer}

// checkSources rejects unknown and repeated source names.
func checkSources(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(SourceNames, n) {
			return fmt.Errorf("stack: unknown source %q (want one of %s)", n, strings.Join(SourceNames, ", "))
		}
		if seen[n] {
			return fmt.Errorf("stack: source %q named twice", n)
		}
		seen[n] = true
	}
	return nil
}

// New defines the stack.
func New(scope constructs.Construct, id *string, props *Props) awscdk.Stack {
	var p Props
	if props != nil {
		p = *props
	}
	sprops := p.StackProps
	if sprops.Description == nil {
		sprops.Description = jsii.String("Activity Aware IDS: denied AWS API calls from CloudTrail to Slack within seconds")
	}
	if len(p.Sources) == 0 {
		p.Sources = []string{SourceCloudTrailLogs}
	}
	if err := checkSources(p.Sources); err != nil {
		panic(err.Error())
	}
	if p.KinesisLogs && !slices.Contains(p.Sources, SourceCloudTrailLogs) {
		panic("stack: KinesisLogs feeds the " + SourceCloudTrailLogs + " source, which Sources leaves out")
	}
	on := func(name string) bool { return slices.Contains(p.Sources, name) }
	s := awscdk.NewStack(scope, id, &sprops)

	webhookURL := awscdk.NewCfnParameter(s, jsii.String(ParamWebhookURL), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		NoEcho:                jsii.Bool(true),
		AllowedPattern:        jsii.String(SlackSecretPattern),
		ConstraintDescription: jsii.String(`must be a Slack incoming webhook URL (https://hooks.slack.com/services/… or https://hooks.slack-gov.com/services/…) or a Slack app's {"botToken":"xoxb-…","channel":"C…"}`),
		Description: jsii.String(`Slack incoming webhook URL, or a Slack app's {"botToken":"xoxb-…","channel":"C…"} ` +
			"(app mode: a group's repeats threaded under its first message); stored in Secrets Manager, never shown."),
	})
	alarmEmail := awscdk.NewCfnParameter(s, jsii.String(ParamAlarmEmail), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(""),
		AllowedPattern:        jsii.String(AlarmEmailPattern),
		ConstraintDescription: jsii.String("must be empty or one e-mail address"),
		Description: jsii.String("E-mail address that receives the IDS's alarms and self-protection alerts by SNS, " +
			"independently of Slack (confirm the subscription mail). Empty: no subscription."),
	})
	hasEmail := awscdk.NewCfnCondition(s, jsii.String(conditionEmailID), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(alarmEmail.ValueAsString(), jsii.String(""))),
	})
	var fn *gofunction.Props
	if p.ModuleDir != "" {
		fn = &gofunction.Props{ModuleDir: jsii.String(p.ModuleDir)}
	}
	var org *string
	// The stack's own sources publish for every account they read; with an
	// organization, each member may publish about itself.
	producers := []*string{awscdk.Aws_ACCOUNT_ID()}
	if p.OrganizationID != "" {
		org = jsii.String(p.OrganizationID)
		producers = append(producers, jsii.String(eventbus.Organization))
	}
	// In an organization, member accounts forward the event sources' AWS
	// events to the activity bus (NewMember): the bus admits them from the
	// organization, and each event source's rule listens there too.
	var forwarded *[]*string
	var buses *[]awsevents.IEventBus
	if org != nil {
		if types := memberforwarding.DetailTypes(p.Sources); len(types) > 0 {
			forwarded = jsii.Strings(types...)
		}
	}
	bus := activitybus.New(s, jsii.String("ActivityBus"), &activitybus.Props{
		// Named after the stack, as its other resources are, so the
		// self-protection detections recognize changes to it.
		EventBusName:         jsii.String(*s.StackName() + "-ActivityBus"),
		OrganizationID:       org,
		ForwardedDetailTypes: forwarded,
	})
	if forwarded != nil {
		buses = &[]awsevents.IEventBus{awsevents.EventBus_FromEventBusName(s, jsii.String("DefaultBus"), jsii.String("default")), bus.EventBus()}
	}
	output := func(id, description string, value *string, cond ...awscdk.CfnCondition) {
		o := awscdk.NewCfnOutput(s, jsii.String(id), &awscdk.CfnOutputProps{
			Description: jsii.String(description),
			Value:       value,
		})
		if len(cond) > 0 {
			o.SetCondition(cond[0])
		}
	}
	// The correlation state, and its tunables for a template user (their
	// defaults are package correlation's, documented there).
	state := corrstate.New(s, jsii.String("Correlation"), nil)
	number := func(id, description string, def, minimum float64) awscdk.CfnParameter {
		return awscdk.NewCfnParameter(s, jsii.String(id), &awscdk.CfnParameterProps{
			Type: jsii.String("Number"), Default: jsii.Number(def), MinValue: jsii.Number(minimum), Description: jsii.String(description),
		})
	}
	notifyWindow := number(ParamNotifyWindow, "After a group's first message (in every destination), how many minutes the rest are "+
		"folded into one digest.", correlation.DefaultWindow.Minutes(), 1)
	groupBy := awscdk.NewCfnParameter(s, jsii.String(ParamNotifyGroupBy), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Default:        jsii.String(strings.Join(correlation.DefaultGroupBy, ",")),
		AllowedPattern: jsii.String(`^(principal|detection|outcome|account|source-ip|service|action)(,(principal|detection|outcome|account|source-ip|service|action))*$`),
		Description:    jsii.String("What makes activities one notification group: comma-separated principal, detection, outcome, account, source-ip, service, action."),
	})
	var sources []monitoring.Component
	var queues []monitoring.Queue
	if on(SourceCloudTrailLogs) {
		burstCount := number(ParamBurstThreshold, "Denied calls by one principal within the burst window that make one "+
			"'Possible credential misuse' activity (severity high).", correlation.DefaultBurstCount, 2)
		burstWindow := number(ParamBurstWindow, "The denial burst window, in minutes.", correlation.DefaultBurstWindow.Minutes(), 1)
		source := cloudTrailLogs(s, bus, &p, fn, &cloudtrailsource.Props{
			State:       state,
			BurstCount:  burstCount.ValueAsNumber(),
			BurstWindow: awscdk.Duration_Minutes(burstWindow.ValueAsNumber()),
		})
		sources = append(sources, monitoring.Component{Name: "cloudtrail", Function: source.Function()})
		queues = append(queues, monitoring.Queue{Queue: source.FailureQueue(), Keeps: "CloudTrail batches the source could not publish"})
		output("CloudTrailSourceFailureQueueUrl", "Batches the CloudTrail source could not publish", source.FailureQueue().QueueUrl())
		if p.KinesisLogs {
			queues = append(queues, monitoring.Queue{Queue: source.StreamFailureQueue(),
				Keeps: "positions of CloudTrail stream batches the source failed on every retry"})
			output("CloudTrailStreamFailureQueueUrl", "Shard and sequence numbers of the stream batches the CloudTrail source failed on", source.StreamFailureQueue().QueueUrl())
			output("CloudTrailLogsDestinationArn", "The CloudWatch Logs destination member accounts subscribe their CloudTrail log group to", source.LogsDestination().AttrArn())
		}
	}
	// eventSource watches and reports an EventBridge-fed source (every
	// such construct returns the same Source interface).
	eventSource := func(name, id, what string, src guarddutysource.Source) {
		sources = append(sources, monitoring.Component{Name: name, Function: src.Function()})
		queues = append(queues,
			monitoring.Queue{Queue: src.DeadLetterQueue(), Keeps: what + " EventBridge could not hand to the source"},
			monitoring.Queue{Queue: src.FailureQueue(), Keeps: what + " the source could not publish"})
		output(id+"DeadLetterQueueUrl", what+" EventBridge could not hand to the source", src.DeadLetterQueue().QueueUrl())
		output(id+"FailureQueueUrl", what+" the source could not publish", src.FailureQueue().QueueUrl())
	}
	if on(SourceGuardDuty) {
		eventSource(SourceGuardDuty, "GuardDutySource", "GuardDuty findings",
			guarddutysource.New(s, jsii.String("GuardDutySource"), &guarddutysource.Props{Bus: bus.EventBus(), EventBuses: buses, Function: fn}))
	}
	if on(SourceSecurityHub) {
		eventSource(SourceSecurityHub, "SecurityHubSource", "Security Hub findings",
			securityhubsource.New(s, jsii.String("SecurityHubSource"), &securityhubsource.Props{
				Bus:           bus.EventBus(),
				SkipGuardDuty: jsii.Bool(on(SourceGuardDuty)),
				EventBuses:    buses,
				Function:      fn,
			}))
	}
	if on(SourceCloudTrailEvents) {
		var ids *[]*string
		if len(p.Detections) > 0 {
			ids = jsii.Strings(p.Detections...)
		}
		eventSource(SourceCloudTrailEvents, "CloudTrailEventsSource", "CloudTrail events",
			cloudtraileventssource.New(s, jsii.String("CloudTrailEventsSource"), &cloudtraileventssource.Props{Bus: bus.EventBus(), Detections: ids, EventBuses: buses, Function: fn}))
	}
	if on(SourceAccessAnalyzer) {
		eventSource(SourceAccessAnalyzer, "AccessAnalyzerSource", "IAM Access Analyzer findings",
			accessanalyzersource.New(s, jsii.String("AccessAnalyzerSource"), &accessanalyzersource.Props{Bus: bus.EventBus(), EventBuses: buses, Function: fn}))
	}
	slack := slackdestination.New(s, jsii.String("SlackDestination"), &slackdestination.Props{
		Bus:                         bus.EventBus(),
		WebhookURL:                  awscdk.SecretValue_CfnParameter(webhookURL),
		SecretName:                  jsii.String(*s.StackName() + "/slack-webhook"),
		KeyAlias:                    jsii.String("alias/" + *s.StackName() + "/slack-webhook"),
		DecodeAuthorizationMessages: jsii.Bool(p.DecodeAuthorizationMessages),
		ProducerAccounts:            &producers,
		Filter:                      &routing.Filter{MinSeverity: minSeverity(s, ParamSlackMinSeverity, "Slack", activity.Info)},
		Function:                    fn,
		State:                       state,
		DestinationName:             jsii.String("slack"),
		NotifyWindow:                awscdk.Duration_Minutes(notifyWindow.ValueAsNumber()),
		GroupBy:                     &[]*string{groupBy.ValueAsString()},
	})
	// Every destination applies the same notification policy, each under
	// its own name in the one state table (its own groups, windows and
	// digests).
	window := awscdk.Duration_Minutes(notifyWindow.ValueAsNumber())
	group := &[]*string{groupBy.ValueAsString()}
	signedURL := optionalParam(s, ParamSignedWebhookURL, SignedWebhookURLPattern, "must be empty or an https:// URL without spaces, quotes or backslashes",
		"HTTPS URL that receives every activity as a signed webhook (Standard Webhooks); "+
			"the signing secret is generated into Secrets Manager. Empty: not deployed.")
	hasWebhook := whenGiven(s, ConditionSignedWebhook, signedURL)
	webhook := webhookdestination.New(s, jsii.String("SignedWebhookDestination"), &webhookdestination.Props{
		Bus:        bus.EventBus(),
		URL:        signedURL.ValueAsString(),
		SecretName: jsii.String(*s.StackName() + "/signed-webhook"),
		KeyAlias:   jsii.String("alias/" + *s.StackName() + "/signed-webhook"),
		Filter:     &routing.Filter{MinSeverity: minSeverity(s, ParamSignedWebhookMinSeverity, "the signed webhook", activity.Info)},
		Condition:  hasWebhook,
		Function:   fn,
		// The same producers as the Slack destination's.
		ProducerAccounts: &producers,
		State:            state,
		DestinationName:  jsii.String("webhook"),
		NotifyWindow:     window,
		GroupBy:          group,
	})

	routingKey := optionalParam(s, ParamPagerDutyRoutingKey, PagerDutyRoutingKeyPattern, "must be empty or a 32-character Events API v2 integration key",
		"PagerDuty Events API v2 integration key: activities at or above PagerDutyMinSeverity "+
			"trigger incidents. Stored in Secrets Manager, never shown. Empty: not deployed.")
	hasPagerDuty := whenGiven(s, ConditionPagerDuty, routingKey)
	pd := pagerdutydestination.New(s, jsii.String("PagerDutyDestination"), &pagerdutydestination.Props{
		Bus: bus.EventBus(),
		// {"routingKey": …}: never empty, so CloudFormation's validation
		// has no empty default to warn about; the value is the NoEcho
		// parameter's, never plain text in the template.
		RoutingKey: awscdk.SecretValue_UnsafePlainText(awscdk.Fn_Join(jsii.String(""),
			jsii.Strings(`{"routingKey":"`, *routingKey.ValueAsString(), `"}`))),
		SecretName: jsii.String(*s.StackName() + "/pagerduty"),
		KeyAlias:   jsii.String("alias/" + *s.StackName() + "/pagerduty"),
		Filter:     &routing.Filter{MinSeverity: minSeverity(s, ParamPagerDutyMinSeverity, "PagerDuty", pagerdutydestination.DefaultMinSeverity)},
		Condition:  hasPagerDuty,
		// The same producers as the Slack destination's.
		ProducerAccounts: &producers,
		Function:         fn,
		State:            state,
		DestinationName:  jsii.String("pagerduty"),
		NotifyWindow:     window,
		GroupBy:          group,
	})

	teamsURL := optionalParam(s, ParamTeamsWebhookURL, TeamsWebhookURLPattern, "must be empty or an https:// URL without spaces, quotes or backslashes",
		"Microsoft Teams Workflows webhook URL (\"When a Teams webhook request is received\"): "+
			"activities arrive as Adaptive Cards. Stored in Secrets Manager, never shown. Empty: not deployed.")
	hasTeams := whenGiven(s, ConditionTeams, teamsURL)
	msTeams := teamsdestination.New(s, jsii.String("TeamsDestination"), &teamsdestination.Props{
		Bus: bus.EventBus(),
		// {"url": …}: never empty, so CloudFormation's validation has no
		// empty default to warn about; the value is the NoEcho parameter's.
		WebhookURL: awscdk.SecretValue_UnsafePlainText(awscdk.Fn_Join(jsii.String(""),
			jsii.Strings(`{"url":"`, *teamsURL.ValueAsString(), `"}`))),
		SecretName: jsii.String(*s.StackName() + "/teams-webhook"),
		KeyAlias:   jsii.String("alias/" + *s.StackName() + "/teams-webhook"),
		Filter:     &routing.Filter{MinSeverity: minSeverity(s, ParamTeamsMinSeverity, "Microsoft Teams", activity.Info)},
		Condition:  hasTeams,
		// The same producers as the Slack destination's.
		ProducerAccounts: &producers,
		Function:         fn,
		State:            state,
		DestinationName:  jsii.String("teams"),
		NotifyWindow:     window,
		GroupBy:          group,
	})

	emailTopic := awscdk.NewCfnParameter(s, jsii.String(ParamEmailTopic), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String(EmailTopicNone),
		AllowedValues: jsii.Strings(EmailTopicNone, EmailTopicCreate),
		Description: jsii.String("\"create\" deploys the e-mail destination: an encrypted SNS topic (output EmailTopicArn) " +
			"receiving every activity at or above EmailMinSeverity as a plain-text e-mail; subscribe addresses to it yourself. \"none\": not deployed."),
	})
	hasEmailDest := awscdk.NewCfnCondition(s, jsii.String(ConditionEmail), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(emailTopic.ValueAsString(), jsii.String(EmailTopicCreate)),
	})
	mail := emaildestination.New(s, jsii.String("EmailDestination"), &emaildestination.Props{
		Bus:       bus.EventBus(),
		TopicName: jsii.String(*s.StackName() + "-email"),
		KeyAlias:  jsii.String("alias/" + *s.StackName() + "/email"),
		Filter:    &routing.Filter{MinSeverity: minSeverity(s, ParamEmailMinSeverity, "e-mail", activity.Info)},
		Condition: hasEmailDest,
		// The same producers as the Slack destination's.
		ProducerAccounts: &producers,
		Function:         fn,
		State:            state,
		DestinationName:  jsii.String("email"),
		NotifyWindow:     window,
		GroupBy:          group,
	})

	alerts, evaluated := selfProtection(s, &p)
	mon := monitoring.New(s, jsii.String("Monitoring"), &monitoring.Props{
		Sources: sources,
		Destinations: []monitoring.Component{
			{Name: "slack", Function: slack.Function()},
			// Every destination's rules let the heartbeat canary past its
			// minimum severity (a parameter), and its function absorbs the
			// canary without sending it: each deployed one has its
			// heartbeat alarm.
			{Name: "webhook", Function: webhook.Function(), Condition: hasWebhook},
			{Name: "pagerduty", Function: pd.Function(), Condition: hasPagerDuty},
			{Name: "teams", Function: msTeams.Function(), Condition: hasTeams},
			{Name: "email", Function: mail.Function(), Condition: hasEmailDest},
		},
		Queues: append(queues,
			monitoring.Queue{Queue: slack.DeadLetterQueue(), Keeps: "activities EventBridge could not hand to the Slack destination"},
			monitoring.Queue{Queue: slack.FailureQueue(), Keeps: "activities the Slack destination could not deliver"},
			monitoring.Queue{Queue: webhook.DeadLetterQueue(), Keeps: "activities EventBridge could not hand to the signed webhook destination", Condition: hasWebhook},
			monitoring.Queue{Queue: webhook.FailureQueue(), Keeps: "activities the signed webhook destination could not deliver", Condition: hasWebhook},
			monitoring.Queue{Queue: pd.DeadLetterQueue(), Keeps: "activities EventBridge could not hand to the PagerDuty destination", Condition: hasPagerDuty},
			monitoring.Queue{Queue: pd.FailureQueue(), Keeps: "activities the PagerDuty destination could not deliver", Condition: hasPagerDuty},
			monitoring.Queue{Queue: msTeams.DeadLetterQueue(), Keeps: "activities EventBridge could not hand to the Teams destination", Condition: hasTeams},
			monitoring.Queue{Queue: msTeams.FailureQueue(), Keeps: "activities the Teams destination could not deliver", Condition: hasTeams},
			monitoring.Queue{Queue: mail.DeadLetterQueue(), Keeps: "activities EventBridge could not hand to the e-mail destination", Condition: hasEmailDest},
			monitoring.Queue{Queue: mail.FailureQueue(), Keeps: "activities the e-mail destination could not publish", Condition: hasEmailDest},
		),
		Bus:                 bus.EventBus(),
		SelfProtectionIDs:   evaluated,
		CloudTrailAlerts:    alerts,
		AlarmEmail:          alarmEmail.ValueAsString(),
		AlarmEmailCondition: hasEmail,
		DashboardName:       jsii.String(*s.StackName() + "-Monitoring"),
	})

	output("ActivityBusName", "EventBridge bus other producers publish activities on", bus.EventBus().EventBusName())
	output("ActivityBusArn", "ARN of the activity bus", bus.EventBus().EventBusArn())
	output("SlackDeadLetterQueueUrl", "Activities EventBridge could not hand to the Slack destination", slack.DeadLetterQueue().QueueUrl())
	output("SlackFailureQueueUrl", "Activities the Slack destination could not deliver", slack.FailureQueue().QueueUrl())
	output("CorrelationTableName", "DynamoDB table of the correlation state and suppressions (aaids suppress --table)", state.Table().TableName())
	output("SlackWebhookSecretArn", "Secrets Manager secret holding the Slack webhook URL", slack.Secret().SecretArn())
	output("AlarmTopicArn", "SNS topic receiving every alarm and self-protection alert (subscribe more endpoints here)", mon.Topic().TopicArn())
	output("DashboardUrl", "CloudWatch dashboard of the pipeline's metrics and alarms",
		jsii.String("https://console.aws.amazon.com/cloudwatch/home?region="+*s.Region()+"#dashboards:name="+*mon.Dashboard().DashboardName()))
	output("HeartbeatAlarmName", "Alarm that fires when the heartbeat canary stops reaching Slack (see docs/OPERATIONS.md)", mon.HeartbeatAlarm().AlarmName())
	output("SignedWebhookSecretArn", "Secrets Manager secret holding the signed webhook's URL and signing secret (signingSecret)", webhook.Secret().SecretArn(), hasWebhook)
	output("SignedWebhookDeadLetterQueueUrl", "Activities EventBridge could not hand to the signed webhook destination", webhook.DeadLetterQueue().QueueUrl(), hasWebhook)
	output("SignedWebhookFailureQueueUrl", "Activities the signed webhook destination could not deliver", webhook.FailureQueue().QueueUrl(), hasWebhook)
	output("PagerDutySecretArn", "Secrets Manager secret holding the PagerDuty routing key", pd.Secret().SecretArn(), hasPagerDuty)
	output("PagerDutyDeadLetterQueueUrl", "Activities EventBridge could not hand to the PagerDuty destination", pd.DeadLetterQueue().QueueUrl(), hasPagerDuty)
	output("PagerDutyFailureQueueUrl", "Activities the PagerDuty destination could not deliver", pd.FailureQueue().QueueUrl(), hasPagerDuty)
	output("TeamsWebhookSecretArn", "Secrets Manager secret holding the Teams Workflows webhook URL", msTeams.Secret().SecretArn(), hasTeams)
	output("TeamsDeadLetterQueueUrl", "Activities EventBridge could not hand to the Teams destination", msTeams.DeadLetterQueue().QueueUrl(), hasTeams)
	output("TeamsFailureQueueUrl", "Activities the Teams destination could not deliver", msTeams.FailureQueue().QueueUrl(), hasTeams)
	output("EmailTopicArn", "SNS topic the e-mail destination publishes to (subscribe e-mail addresses here)", mail.Topic().TopicArn(), hasEmailDest)
	output("EmailDeadLetterQueueUrl", "Activities EventBridge could not hand to the e-mail destination", mail.DeadLetterQueue().QueueUrl(), hasEmailDest)
	output("EmailFailureQueueUrl", "Activities the e-mail destination could not publish", mail.FailureQueue().QueueUrl(), hasEmailDest)
	return s
}

// optionalParam is an optional destination's NoEcho credential parameter:
// empty by default, which leaves the destination out.
func optionalParam(s awscdk.Stack, id, pattern, constraint, description string) awscdk.CfnParameter {
	return awscdk.NewCfnParameter(s, jsii.String(id), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		NoEcho:                jsii.Bool(true),
		Default:               jsii.String(""),
		AllowedPattern:        jsii.String(pattern),
		ConstraintDescription: jsii.String(constraint),
		Description:           jsii.String(description),
	})
}

// whenGiven is a condition that holds when param is not empty: the optional
// destinations deploy only when their credentials are given.
func whenGiven(s awscdk.Stack, id string, param awscdk.CfnParameter) awscdk.CfnCondition {
	return awscdk.NewCfnCondition(s, jsii.String(id), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(param.ValueAsString(), jsii.String(""))),
	})
}

// minSeverity is a destination's minimum-severity parameter.
func minSeverity(s awscdk.Stack, id, destination string, def activity.Severity) *string {
	return awscdk.NewCfnParameter(s, jsii.String(id), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String(string(def)),
		AllowedValues: jsii.Strings(routing.Severities...),
		Description:   jsii.String("Least severity of the activities sent to " + destination + "."),
	}).ValueAsString()
}

// cloudTrailLogs defines the CloudTrail source subscribed to CloudTrail's log
// group, with the parameters that name the group and the filter pattern.
func cloudTrailLogs(s awscdk.Stack, bus activitybus.Bus, p *Props, fn *gofunction.Props, corr *cloudtrailsource.Props) cloudtrailsource.Source {
	logGroupName := awscdk.NewCfnParameter(s, jsii.String(ParamLogGroupName), &awscdk.CfnParameterProps{
		Type:    jsii.String("String"),
		Default: jsii.String(DefaultLogGroupName),
		Description: jsii.String("CloudWatch Logs log group CloudTrail delivers to. " +
			"Empty: no subscription (development stacks)."),
	})
	// The pattern's default selects what the configured detections match.
	detectionIDs := p.Detections
	if len(detectionIDs) == 0 {
		detectionIDs = []string{cloudtrailsource.DefaultDetection}
	}
	defaultPattern, err := cloudtrailsource.FilterPatternFor(detectionIDs)
	if err != nil {
		panic(fmt.Sprintf("stack: %v", err))
	}
	filterPattern := awscdk.NewCfnParameter(s, jsii.String(ParamFilterPattern), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Default:     jsii.String(defaultPattern),
		MaxLength:   jsii.Number(FilterPatternMaxLen),
		Description: jsii.String("CloudWatch Logs filter pattern selecting the CloudTrail records to report."),
	})
	subscribe := awscdk.NewCfnCondition(s, jsii.String(conditionSubscribeID), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(
			awscdk.Fn_ConditionEquals(logGroupName.ValueAsString(), jsii.String(""))),
	})

	var presetIDs *[]*string
	if len(p.Detections) > 0 {
		presetIDs = jsii.Strings(p.Detections...)
	}
	var exclusions *map[string]*[]*string
	if len(p.DetectionExclusions) > 0 {
		m := make(map[string]*[]*string, len(p.DetectionExclusions))
		for id, arns := range p.DetectionExclusions {
			m[id] = jsii.Strings(arns...)
		}
		exclusions = &m
	}
	var kinesis *cloudtrailsource.KinesisProps
	if p.KinesisLogs {
		kinesis = &cloudtrailsource.KinesisProps{}
		if p.OrganizationID != "" {
			kinesis.OrganizationID = jsii.String(p.OrganizationID)
		}
	}
	source := cloudtrailsource.New(s, jsii.String("CloudTrailSource"), &cloudtrailsource.Props{
		DetectionExclusions: exclusions,
		Bus:                 bus.EventBus(),
		LogGroup: awslogs.LogGroup_FromLogGroupName(s, jsii.String("CloudTrailLogGroup"),
			logGroupName.ValueAsString()),
		FilterPattern: filterPattern.ValueAsString(),
		Detections:    presetIDs,
		// The self-protection presets recognize this stack's resources by
		// its name (they carry it) and the log group it reads.
		Naming:      &detections.Naming{Prefix: *s.StackName(), TrailLogGroup: *logGroupName.ValueAsString()},
		Function:    fn,
		State:       corr.State,
		BurstCount:  corr.BurstCount,
		BurstWindow: corr.BurstWindow,
		Kinesis:     kinesis,
	})
	// One template serves accounts with and without a CloudTrail log group:
	// an empty parameter leaves out the subscription and its permission.
	source.Permission().CfnOptions().SetCondition(subscribe)
	source.SubscriptionFilter().Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(subscribe)
	return source
}

// selfProtection returns the self-protection presets under this stack's
// naming, as alerts straight from CloudTrail, and the ids of those the
// source evaluates itself (whose activities also go to the topic).
func selfProtection(s awscdk.Stack, p *Props) (alerts []monitoring.CloudTrailAlert, evaluated []string) {
	naming := detections.Naming{Prefix: *s.StackName(), TrailLogGroup: detections.DefaultNaming.TrailLogGroup}
	if param, ok := s.Node().TryFindChild(jsii.String(ParamLogGroupName)).(awscdk.CfnParameter); ok {
		naming.TrailLogGroup = *param.ValueAsString()
	}
	presets, err := detections.LookupFor(naming, detections.PackSelfProtection)
	if err != nil {
		panic(fmt.Sprintf("stack: %v", err))
	}
	enabled := map[string]bool{}
	if ps, err := detections.Lookup(p.Detections...); err == nil {
		for _, e := range ps {
			enabled[e.ID] = true
		}
	}
	for _, preset := range presets {
		pattern, err := preset.EventBridgePattern()
		if err != nil {
			panic(fmt.Sprintf("stack: self-protection alert: %v", err))
		}
		alerts = append(alerts, monitoring.CloudTrailAlert{ID: preset.ID, Pattern: pattern})
		if enabled[preset.ID] && (slices.Contains(p.Sources, SourceCloudTrailLogs) || slices.Contains(p.Sources, SourceCloudTrailEvents)) {
			evaluated = append(evaluated, preset.ID)
		}
	}
	return alerts, evaluated
}

// GlobalEventsRegion is where EventBridge delivers the CloudTrail events of
// global services (IAM, STS's global endpoint, Organizations, sign-in).
const GlobalEventsRegion = "us-east-1"

// NewGlobalEvents defines the stack that, deployed in us-east-1 beside a
// stack with SourceCloudTrailEvents in region, forwards the global
// services' CloudTrail events to region's default bus.
func NewGlobalEvents(scope constructs.Construct, id *string, region string, sprops awscdk.StackProps) awscdk.Stack {
	if sprops.Description == nil {
		sprops.Description = jsii.String("Activity Aware IDS: global services' CloudTrail events from us-east-1 to " + region)
	}
	sprops.Env = &awscdk.Environment{Region: jsii.String(GlobalEventsRegion)}
	s := awscdk.NewStack(scope, id, &sprops)
	cloudtraileventssource.NewGlobalForwarder(s, jsii.String("GlobalEventsForwarder"), region)
	return s
}

// MemberProps configures the member stack. CentralBusArn is required.
type MemberProps struct {
	awscdk.StackProps
	// CentralBusArn is the central stack's activity bus.
	CentralBusArn string
	// Sources are the central stack's sources; the member forwards the
	// events of those fed by EventBridge (not cloudtrail-logs).
	Sources []string
	// Detections are the central stack's, which select the CloudTrail
	// events forwarded.
	Detections []string
}

// NewMember defines the member stack, for CloudFormation StackSets across
// the organization (every account and region, us-east-1 included): rules on
// the account's default bus forward the central stack's event sources'
// events to its activity bus.
func NewMember(scope constructs.Construct, id *string, props *MemberProps) awscdk.Stack {
	p := *props
	var forwarded []string
	for _, name := range p.Sources {
		if name != SourceCloudTrailLogs {
			forwarded = append(forwarded, name)
		}
	}
	if p.CentralBusArn == "" || len(forwarded) == 0 {
		panic("stack: a member stack needs the central bus ARN and a source fed by EventBridge (" +
			strings.Join(SourceNames[1:], ", ") + ")")
	}
	sprops := p.StackProps
	if sprops.Description == nil {
		sprops.Description = jsii.String("Activity Aware IDS member: this account's security events to the central activity bus")
	}
	s := awscdk.NewStack(scope, id, &sprops)
	var detections *[]*string
	if len(p.Detections) > 0 {
		detections = jsii.Strings(p.Detections...)
	}
	memberforwarding.New(s, jsii.String("Forwarding"), &memberforwarding.Props{
		CentralBusArn: jsii.String(p.CentralBusArn),
		Sources:       jsii.Strings(forwarded...),
		Detections:    detections,
	})
	return s
}
