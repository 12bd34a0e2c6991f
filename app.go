// Command ids is the CDK app of Activity Aware IDS: it reads its settings from
// CDK context, defines the stack, checks it with the cdk-nag AwsSolutions
// pack and synthesizes the cloud assembly. Run it through the CDK CLI
// (`cdk synth`, `cdk deploy`) or `./dev.sh`.
//
// Context keys (`cdk synth -c key=value` or cdk.json):
//
//	stackName                    stack name (default Activity-Aware-IDS)
//	detections                   detection preset ids or packs (cis, threats,
//	                             self-protection, all), a list or "a,b"
//	detectionExclusions          {"preset-id": ["principal ARN", ...]}: principals
//	                             (* wildcards) a preset ignores, e.g. a deploy role
//	decodeAuthorizationMessages  true: the Slack destination decodes denials
//	organizationId               o-...: the organization may publish activities
//	sources                      the sources to deploy, a list or "a,b" (default
//	                             cloudtrail-logs; see stack.SourceNames)
//	kinesisLogs                  true: a CloudWatch Logs destination for the
//	                             organizationId's accounts (else this account)
//	                             and its encrypted Kinesis stream feed the
//	                             cloudtrail-logs source (docs/SCALING.md)
//	centralBusArn                the activity bus ARN of the central stack: the app
//	                             adds <stackName>-Member, for StackSets across the
//	                             organization, forwarding the sources' events there
//	cloudTrailEventsRegion       the region the stack is deployed to, with the
//	                             cloudtrail-events source outside us-east-1: the app
//	                             adds <stackName>-GlobalEvents (us-east-1), which
//	                             forwards IAM, STS, Organizations and sign-in events
//	packageBucket                S3 bucket the template's assets are published to
//	                             (`./dev.sh package`), so any account can install it
//	packagePrefix                key prefix in packageBucket (default activity-aware-ids/)
package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/stack"
)

// Context defaults.
const (
	// DefaultStackName is the stack name when the stackName context is absent.
	DefaultStackName = "Activity-Aware-IDS"
	// DefaultPackagePrefix is the key prefix of packaged assets.
	DefaultPackagePrefix = "activity-aware-ids/"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	newApp(app)
	app.Synth(nil)
}

// newApp defines the stack in app from its context and adds the cdk-nag
// checks. It panics, as CDK apps fail, on malformed context.
func newApp(app awscdk.App) awscdk.Stack {
	props, name, err := propsFromContext(app.Node().TryGetContext)
	if err != nil {
		panic(err)
	}
	s := stack.New(app, jsii.String(name), props)
	region, err := contextString(app.Node().TryGetContext, "cloudTrailEventsRegion")
	if err != nil {
		panic(err)
	}
	// CloudTrail delivers the global services' events to us-east-1 only: a
	// stack there forwards them to the region the main stack reads them in.
	if region != "" && region != stack.GlobalEventsRegion && slices.Contains(props.Sources, stack.SourceCloudTrailEvents) {
		stack.NewGlobalEvents(app, jsii.String(name+"-GlobalEvents"), region, awscdk.StackProps{Synthesizer: props.Synthesizer})
	}
	central, err := contextString(app.Node().TryGetContext, "centralBusArn")
	if err != nil {
		panic(err)
	}
	if central != "" {
		stack.NewMember(app, jsii.String(name+"-Member"), &stack.MemberProps{
			StackProps:    awscdk.StackProps{Synthesizer: props.Synthesizer},
			CentralBusArn: central,
			Sources:       props.Sources,
			Detections:    props.Detections,
		})
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
	}), nil)
	return s
}

// propsFromContext reads the stack name and props from CDK context.
func propsFromContext(ctx func(key *string) any) (*stack.Props, string, error) {
	name, err := contextString(ctx, "stackName")
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = DefaultStackName
	}
	detections, err := contextList(ctx, "detections")
	if err != nil {
		return nil, "", err
	}
	exclusions, err := contextExclusions(ctx, "detectionExclusions")
	if err != nil {
		return nil, "", err
	}
	decode, err := contextBool(ctx, "decodeAuthorizationMessages")
	if err != nil {
		return nil, "", err
	}
	org, err := contextString(ctx, "organizationId")
	if err != nil {
		return nil, "", err
	}
	sources, err := contextList(ctx, "sources")
	if err != nil {
		return nil, "", err
	}
	kinesisLogs, err := contextBool(ctx, "kinesisLogs")
	if err != nil {
		return nil, "", err
	}
	bucket, err := contextString(ctx, "packageBucket")
	if err != nil {
		return nil, "", err
	}
	prefix, err := contextString(ctx, "packagePrefix")
	if err != nil {
		return nil, "", err
	}
	var sprops awscdk.StackProps
	if bucket != "" {
		if prefix == "" {
			prefix = DefaultPackagePrefix
		}
		// A packaged template names its asset bucket instead of the
		// deploying account's CDK bootstrap bucket, so it installs anywhere
		// that bucket is readable, with no CDK bootstrap.
		sprops.Synthesizer = awscdk.NewCliCredentialsStackSynthesizer(&awscdk.CliCredentialsStackSynthesizerProps{
			FileAssetsBucketName: jsii.String(bucket),
			BucketPrefix:         jsii.String(prefix),
		})
	}
	return &stack.Props{
		StackProps:                  sprops,
		Detections:                  detections,
		DetectionExclusions:         exclusions,
		DecodeAuthorizationMessages: decode,
		OrganizationID:              org,
		Sources:                     sources,
		KinesisLogs:                 kinesisLogs,
	}, name, nil
}

func contextString(ctx func(key *string) any, key string) (string, error) {
	switch v := ctx(jsii.String(key)).(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	default:
		return "", fmt.Errorf("app: context %s: want a string, got %T", key, v)
	}
}

// contextList accepts a JSON list of strings (cdk.json) or a comma-separated
// string (`-c key=a,b`).
func contextList(ctx func(key *string) any, key string) ([]string, error) {
	var items []string
	switch v := ctx(jsii.String(key)).(type) {
	case nil:
		return nil, nil
	case string:
		items = strings.Split(v, ",")
	case []any:
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("app: context %s: want strings, got %T", key, item)
			}
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("app: context %s: want a list or a comma-separated string, got %T", key, v)
	}
	out := items[:0]
	for _, item := range items {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out, nil
}

// contextExclusions accepts an object of preset id to a list of strings
// (cdk.json) or the same as JSON text (`-c key='{"id":["arn"]}'`).
func contextExclusions(ctx func(key *string) any, key string) (map[string][]string, error) {
	switch v := ctx(jsii.String(key)).(type) {
	case nil:
		return nil, nil
	case string:
		ex, err := detections.ParseExclusions(v)
		if err != nil {
			return nil, fmt.Errorf("app: context %s: %w", key, err)
		}
		return ex, nil
	case map[string]any:
		out := make(map[string][]string, len(v))
		for id, arns := range v {
			list, ok := arns.([]any)
			if !ok {
				return nil, fmt.Errorf("app: context %s: %s: want a list of principal ARNs, got %T", key, id, arns)
			}
			for _, a := range list {
				s, ok := a.(string)
				if !ok {
					return nil, fmt.Errorf("app: context %s: %s: want strings, got %T", key, id, a)
				}
				out[id] = append(out[id], s)
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("app: context %s: want an object of preset id to principal ARNs, got %T", key, v)
	}
}

func contextBool(ctx func(key *string) any, key string) (bool, error) {
	switch v := ctx(jsii.String(key)).(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, fmt.Errorf("app: context %s: %w", key, err)
		}
		return b, nil
	default:
		return false, fmt.Errorf("app: context %s: want true or false, got %T", key, v)
	}
}
