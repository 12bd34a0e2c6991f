// Package correlation provides the correlation state: one DynamoDB table
// (on demand, a TTL on every item, encrypted with an AWS managed key,
// point-in-time recovery on) that the sources' burst detection and the
// destinations' notification policies keep their windows, counters, claims
// and suppressions in, with least-privilege grants for each.
//
// The schema is package correlation's (github.com/activity-aware/ids/correlation):
// string keys pk and sk, the TTL attribute exp, and the sparse global index
// "due" (dpk, dat) of windows awaiting their digest.
package correlation

import (
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	state "github.com/activity-aware/ids/correlation"
)

// Props configures the state table. All fields are optional.
type Props struct {
	// TableName names the table. Default: a name CloudFormation generates.
	TableName *string
	// RemovalPolicy of the table. Default DESTROY: the table holds windows
	// and claims that expire within a day, and suppressions an operator
	// adds again; a production stack that keeps its suppressions across a
	// stack deletion passes RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
}

// State is the correlation state table.
type State interface {
	constructs.Construct
	// Table is the DynamoDB table.
	Table() awsdynamodb.ITable
	// GrantSource lets a source count activities and derive bursts: read,
	// conditionally put and update items, and delete its own claims (keys
	// starting with correlation.ClaimPrefix) when a count fails.
	GrantSource(grantee awsiam.IGrantable) awsiam.Grant
	// GrantDestination lets a destination apply its notification policy:
	// what GrantSource allows, and querying the table and its due index
	// (suppressions, ended windows).
	GrantDestination(grantee awsiam.IGrantable) awsiam.Grant
	// GrantSuppressions lets an operator's role manage suppressions (aaids
	// suppress): read, put, delete items and query the table.
	GrantSuppressions(grantee awsiam.IGrantable) awsiam.Grant
}

type stateTable struct {
	constructs.Construct
	table awsdynamodb.Table
}

func (s *stateTable) Table() awsdynamodb.ITable { return s.table }

func (s *stateTable) GrantSource(g awsiam.IGrantable) awsiam.Grant {
	release := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      g,
		Actions:      jsii.Strings("dynamodb:DeleteItem"),
		ResourceArns: &[]*string{s.table.TableArn()},
		Conditions: &map[string]*map[string]any{"ForAllValues:StringLike": {
			"dynamodb:LeadingKeys": []string{state.ClaimPrefix + "*"},
		}},
	})
	return s.grant(g, false, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem").Combine(release)
}

func (s *stateTable) GrantDestination(g awsiam.IGrantable) awsiam.Grant {
	return s.grant(g, true, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query")
}

func (s *stateTable) GrantSuppressions(g awsiam.IGrantable) awsiam.Grant {
	return s.grant(g, false, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query")
}

// grant allows actions on the table and, with dueIndex, on its due index by
// name (Table.Grant would name every index with a wildcard).
func (s *stateTable) grant(g awsiam.IGrantable, dueIndex bool, actions ...string) awsiam.Grant {
	arns := []*string{s.table.TableArn()}
	if dueIndex {
		arns = append(arns, jsii.String(*s.table.TableArn()+"/index/"+state.DueIndex))
	}
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      g,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &arns,
	})
}

// New defines the state table.
func New(scope constructs.Construct, id *string, props *Props) State {
	var p Props
	if props != nil {
		p = *props
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
	}
	c := constructs.NewConstruct(scope, id)
	str := awsdynamodb.AttributeType_STRING
	table := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:           p.TableName,
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(state.AttrPK), Type: str},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(state.AttrSK), Type: str},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(state.AttrExpires),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: p.RemovalPolicy,
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(state.DueIndex),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(state.AttrDuePartition), Type: str},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(state.AttrDueAt), Type: awsdynamodb.AttributeType_NUMBER},
		ProjectionType: awsdynamodb.ProjectionType_KEYS_ONLY,
	})
	return &stateTable{Construct: c, table: table}
}

// DurationEnv writes d as a Go duration for a function's environment, e.g.
// "10m0s"; a duration whose amount is a token (a CloudFormation parameter)
// becomes that token followed by its unit, e.g. "${Token[…]}m", which Go's
// time.ParseDuration reads once deployed.
func DurationEnv(d awscdk.Duration) string {
	if !*d.IsUnresolved() {
		return time.Duration(*d.ToSeconds(nil) * float64(time.Second)).String()
	}
	// A token amount converts only to its own unit.
	switch *d.UnitLabel() {
	case "minutes":
		return *awscdk.Token_AsString(d.ToMinutes(nil), nil) + "m"
	case "hours":
		return *awscdk.Token_AsString(d.ToHours(nil), nil) + "h"
	case "seconds":
		return *awscdk.Token_AsString(d.ToSeconds(nil), nil) + "s"
	}
	panic("correlation: a duration from a token must be in seconds, minutes or hours, not " + *d.UnitLabel())
}

// NumberEnv writes n for a function's environment; a token stays a token.
func NumberEnv(n *float64) string {
	if *awscdk.Token_IsUnresolved(n) {
		return *awscdk.Token_AsString(n, nil)
	}
	return strconv.FormatFloat(*n, 'f', -1, 64)
}
