// Package routing turns what users say about which activities a destination
// receives (a minimum severity, detection ids, sources, accounts, or a raw
// pattern as the escape hatch) into the EventBridge pattern of the
// destination's rule, so no one writes EventBridge JSON to route critical
// activities to PagerDuty or one account's to its own channel.
package routing

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/constructs/activitybus"
)

// Severities, most severe first: what MinSeverity accepts.
var Severities = []string{
	string(activity.Critical), string(activity.High), string(activity.Medium), string(activity.Low), string(activity.Info),
}

// Filter selects activities. Every set criterion must hold; within one, any
// listed value matches. The zero Filter selects every activity.
type Filter struct {
	// MinSeverity selects activities at or above a severity ("critical",
	// "high", "medium", "low", "info"). It may be a token, e.g. a
	// CloudFormation parameter restricted to those values: the pattern then
	// reads the list from a mapping at deploy time.
	MinSeverity *string
	// Detections selects activities that matched any of these detection
	// preset ids.
	Detections *[]*string
	// Sources selects activities of these sources ("cloudtrail", …).
	Sources *[]*string
	// Accounts selects activities of these AWS account ids.
	Accounts *[]*string
	// Detail is a raw EventBridge pattern on the activity (the entry's
	// detail), the escape hatch; the criteria above are added to it and
	// replace its members of the same name.
	Detail *map[string]any
}

// AtOrAbove lists the severities at or above min, most severe first.
func AtOrAbove(min string) ([]string, error) {
	for i, s := range Severities {
		if s == min {
			return Severities[:i+1], nil
		}
	}
	return nil, fmt.Errorf("routing: severity %q, want one of %s", min, strings.Join(Severities, ", "))
}

// mappingID is the mapping a token MinSeverity reads its list from.
const mappingID = "SeveritiesAtOrAbove"

// Pattern returns the rule's pattern for f: the activity pattern of the bus
// narrowed by f. scope receives the severity mapping when MinSeverity is a
// token. It panics on an unknown literal severity (a programming error the
// synthesis must not hide).
func (f *Filter) Pattern(scope constructs.Construct) *awsevents.EventPattern {
	pattern := activitybus.ActivityPattern()
	if f == nil {
		return pattern
	}
	detail := map[string]any{}
	if f.Detail != nil {
		for k, v := range *f.Detail {
			detail[k] = v
		}
	}
	if f.MinSeverity != nil {
		if *awscdk.Token_IsUnresolved(f.MinSeverity) {
			detail["severity"] = awscdk.Fn_Split(jsii.String(","),
				severityMapping(scope).FindInMap(f.MinSeverity, jsii.String("List"), nil), nil)
		} else if *f.MinSeverity != string(activity.Info) {
			list, err := AtOrAbove(*f.MinSeverity)
			if err != nil {
				panic(err)
			}
			detail["severity"] = jsii.Strings(list...)
		}
	}
	if f.Detections != nil && len(*f.Detections) > 0 {
		detail["detections"] = map[string]any{"id": f.Detections}
	}
	if f.Accounts != nil && len(*f.Accounts) > 0 {
		detail["account"] = map[string]any{"id": f.Accounts}
	}
	if f.Sources != nil && len(*f.Sources) > 0 {
		sources := make([]*string, 0, len(*f.Sources))
		for _, s := range *f.Sources {
			sources = append(sources, jsii.String(activity.SourcePrefix+*s))
		}
		pattern.Source = &sources
	}
	if len(detail) > 0 {
		pattern.Detail = &detail
	}
	return pattern
}

// severityMapping is the stack's mapping from a minimum severity to the
// comma-separated severities at or above it, made once per stack.
func severityMapping(scope constructs.Construct) awscdk.CfnMapping {
	stack := awscdk.Stack_Of(scope)
	if m := stack.Node().TryFindChild(jsii.String(mappingID)); m != nil {
		return m.(awscdk.CfnMapping)
	}
	mapping := map[string]*map[string]any{}
	for _, s := range Severities {
		list, _ := AtOrAbove(s)
		mapping[s] = &map[string]any{"List": strings.Join(list, ",")}
	}
	return awscdk.NewCfnMapping(stack, jsii.String(mappingID), &awscdk.CfnMappingProps{Mapping: &mapping})
}
