package detections

import (
	"fmt"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections/filterpattern"
)

// Naming tells the self-protection presets how this system's own resources
// are named. CloudFormation names the stack's resources after the stack
// (e.g. function "Activity-Aware-IDS-CloudTrailSource-1A2B3C"), so matching
// the stack name anywhere in a name or ARN recognizes them.
type Naming struct {
	// Prefix is the stack name (or any name fragment) every resource of the
	// deployment carries, matched anywhere in a name or ARN.
	Prefix string
	// TrailLogGroup is the CloudTrail log group the system subscribes to.
	TrailLogGroup string
}

// DefaultNaming is the project's naming convention: the stack is named
// Activity-Aware-IDS and reads CloudTrail's default log group.
var DefaultNaming = Naming{Prefix: "Activity-Aware-IDS", TrailLogGroup: "CloudTrail/DefaultLogGroup"}

func (n Naming) validate() error {
	for _, f := range []struct{ name, v string }{{"prefix", n.Prefix}, {"trail log group", n.TrailLogGroup}} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("detections: naming: %s is empty", f.name)
		}
		if strings.ContainsAny(f.v, "\"\\*") {
			return fmt.Errorf("detections: naming: %s %q may not contain quotes, backslashes or *", f.name, f.v)
		}
	}
	return nil
}

const cis = "CIS AWS Foundations Benchmark v1.4 "

// build returns the presets for a naming; every pattern is parsed here, so a
// malformed preset fails at start-up (and in the tests), never per record.
func build(n Naming) ([]*Preset, error) {
	name := func(field string) string { return fmt.Sprintf(`($.%s = "*%s*")`, field, n.Prefix) }
	presets := []*Preset{
		{
			ID: DefaultID, Title: "Unauthorized API calls", Severity: activity.Medium,
			Rationale: "A burst of denied calls is the classic sign of a stolen credential probing what it may do, " +
				"and the signal engineers use to find the permissions a new role lacks.",
			References: []string{cis + "4.1 (CloudWatch.2)", "Activity Aware IDS (2017) default subscription filter"},
			Pattern:    `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
		},
		{
			ID: "unauthorized-api-calls-tuned", Title: "Unauthorized API calls (known noise dropped)", Severity: activity.Medium,
			Rationale: "The denial pattern without its known noise: S3 log delivery (delivery.logs.amazonaws.com), " +
				"HeadBucket probes from consoles and SDKs, and anonymous principals hitting public buckets. " +
				"An absent userIdentity.accountId counts as not anonymous (!= never matches an absent key).",
			References: []string{cis + "4.1 (tuned variant used by baselines)", "nozaq/terraform-aws-secure-baseline alarm-baseline"},
			Pattern: `{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ` +
				`($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") && ` +
				`(($.userIdentity.accountId NOT EXISTS) || ($.userIdentity.accountId != "ANONYMOUS_PRINCIPAL")) }`,
		},
		{
			ID: "console-signin-without-mfa", Title: "Console sign-in without MFA", Severity: activity.High,
			Rationale:  "A password alone opened the console: phished or reused passwords need no second factor.",
			References: []string{cis + "4.2 (CloudWatch.3)"},
			Pattern:    `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`,
		},
		{
			ID: "root-account-usage", Title: "Root account used", Severity: activity.Critical,
			Rationale:  "The root user bypasses every IAM policy and should be used almost never.",
			References: []string{cis + "4.3 (CloudWatch.1)"},
			Pattern:    `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
		},
		{
			ID: "iam-policy-changes", Title: "IAM policy changed", Severity: activity.Medium,
			Rationale:  "Policy changes grant or remove access; an attacker escalates privilege with them.",
			References: []string{cis + "4.4 (CloudWatch.4)"},
			Pattern:    `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}`,
		},
		{
			ID: "cloudtrail-config-changes", Title: "CloudTrail configuration changed", Severity: activity.High,
			Rationale:  "Stopping or changing a trail blinds every detection that reads it, this system's included.",
			References: []string{cis + "4.5 (CloudWatch.5)"},
			Pattern:    `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`,
		},
		{
			ID: "console-auth-failures", Title: "Console authentication failed", Severity: activity.Medium,
			Rationale:  "Repeated failed console sign-ins are password guessing.",
			References: []string{cis + "4.6 (CloudWatch.6)"},
			Pattern:    `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`,
		},
		{
			ID: "kms-key-disabled-or-deleted", Title: "KMS key disabled or scheduled for deletion", Severity: activity.High,
			Rationale:  "Data encrypted under a deleted key is lost for good; disabling a key is a ransom and sabotage move.",
			References: []string{cis + "4.7 (CloudWatch.7)"},
			Pattern:    `{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }`,
		},
		{
			ID: "s3-bucket-policy-changes", Title: "S3 bucket policy changed", Severity: activity.Medium,
			Rationale:  "Bucket policies and ACLs decide who outside the account can read the data.",
			References: []string{cis + "4.8 (CloudWatch.8)"},
			Pattern:    `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`,
		},
		{
			ID: "config-changes", Title: "AWS Config recording changed", Severity: activity.High,
			Rationale:  "Stopping the configuration recorder hides every later resource change.",
			References: []string{cis + "4.9 (CloudWatch.9)"},
			Pattern:    `{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }`,
		},
		{
			ID: "security-group-changes", Title: "Security group changed", Severity: activity.Medium,
			Rationale:  "Security groups are the instance firewall; an opened port is an opened door.",
			References: []string{cis + "4.10 (CloudWatch.10)"},
			Pattern:    `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup)}`,
		},
		{
			ID: "nacl-changes", Title: "Network ACL changed", Severity: activity.Medium,
			Rationale:  "Network ACLs are the subnet firewall.",
			References: []string{cis + "4.11 (CloudWatch.11)"},
			Pattern:    `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`,
		},
		{
			ID: "network-gateway-changes", Title: "Network gateway changed", Severity: activity.Medium,
			Rationale:  "Gateways decide which traffic enters and leaves the VPC.",
			References: []string{cis + "4.12 (CloudWatch.12)"},
			Pattern:    `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`,
		},
		{
			ID: "route-table-changes", Title: "Route table changed", Severity: activity.Medium,
			Rationale:  "A changed route can send traffic through a host the attacker controls.",
			References: []string{cis + "4.13 (CloudWatch.13)"},
			Pattern:    `{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }`,
		},
		{
			ID: "vpc-changes", Title: "VPC changed", Severity: activity.Medium,
			Rationale:  "Peering and VPC changes connect networks that were meant to stay apart.",
			References: []string{cis + "4.14 (CloudWatch.14)"},
			Pattern:    `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }`,
		},
		{
			ID: "organizations-changes", Title: "AWS Organizations changed", Severity: activity.High,
			Rationale:  "Organization changes move accounts out of the guardrails (SCPs) that protect them.",
			References: []string{cis + "4.15 (CloudWatch.15)"},
			Pattern:    `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName= "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName ="UpdateOrganizationalUnit")) }`,
		},
		{
			ID: "self-subscription-filter-changed", Title: "This system's subscription filter changed or deleted", Severity: activity.Critical,
			Rationale: "Deleting or replacing the subscription filter on the trail's log group silently stops every alert " +
				"this system sends; an intruder does it first.",
			References: []string{"Activity Aware IDS self-protection", "MITRE ATT&CK T1562.008 Impair Defenses: Disable Cloud Logs"},
			Pattern: fmt.Sprintf(`{ ($.eventSource = "logs.amazonaws.com") && (($.eventName = "DeleteSubscriptionFilter") || ($.eventName = "PutSubscriptionFilter")) && (%s || ($.requestParameters.logGroupName = "%s")) }`,
				name("requestParameters.filterName"), n.TrailLogGroup),
		},
		{
			ID: "self-lambda-changed", Title: "This system's Lambda code or configuration changed", Severity: activity.Critical,
			Rationale: "Replacing the code or configuration of the source or destination Lambda (or throttling it to zero) " +
				"lets an intruder drop or forge alerts.",
			References: []string{"Activity Aware IDS self-protection", "MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools"},
			Pattern: fmt.Sprintf(`{ ($.eventSource = "lambda.amazonaws.com") && (($.eventName = "UpdateFunctionCode*") || ($.eventName = "UpdateFunctionConfiguration*") || ($.eventName = "DeleteFunction*") || ($.eventName = "PutFunctionConcurrency*") || ($.eventName = "AddPermission*") || ($.eventName = "RemovePermission*") || ($.eventName = "UpdateAlias*")) && %s }`,
				name("requestParameters.functionName")),
		},
		{
			ID: "self-bus-changed", Title: "This system's event bus or rules changed", Severity: activity.Critical,
			Rationale:  "Deleting or disabling the activity bus, its rules or their targets stops delivery to every destination.",
			References: []string{"Activity Aware IDS self-protection", "MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools"},
			Pattern: fmt.Sprintf(`{ ($.eventSource = "events.amazonaws.com") && (($.eventName = "DeleteEventBus") || ($.eventName = "UpdateEventBus") || ($.eventName = "PutRule") || ($.eventName = "DeleteRule") || ($.eventName = "DisableRule") || ($.eventName = "PutTargets") || ($.eventName = "RemoveTargets") || ($.eventName = "PutPermission") || ($.eventName = "RemovePermission") || ($.eventName = "DeleteArchive")) && (%s || %s || %s) }`,
				name("requestParameters.name"), name("requestParameters.rule"), name("requestParameters.eventBusName")),
		},
		{
			ID: "self-secret-or-key-changed", Title: "This system's webhook secret or its key changed", Severity: activity.Critical,
			Rationale: "Changing the webhook secret redirects alerts to an attacker's channel; changing its key or policy breaks delivery. " +
				"Keys are recognized by an alias carrying the stack name (a request naming the key by id alone is not recognized: " +
				"kms-key-disabled-or-deleted covers every key).",
			References: []string{"Activity Aware IDS self-protection", "MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools"},
			Pattern: fmt.Sprintf(`{ (($.eventSource = "secretsmanager.amazonaws.com") && (($.eventName = "PutSecretValue") || ($.eventName = "UpdateSecret") || ($.eventName = "DeleteSecret") || ($.eventName = "PutResourcePolicy") || ($.eventName = "DeleteResourcePolicy") || ($.eventName = "RotateSecret") || ($.eventName = "CancelRotateSecret")) && %s) || (($.eventSource = "kms.amazonaws.com") && (($.eventName = "DisableKey") || ($.eventName = "ScheduleKeyDeletion") || ($.eventName = "PutKeyPolicy") || ($.eventName = "DisableKeyRotation") || ($.eventName = "DeleteAlias") || ($.eventName = "UpdateAlias")) && (%s || %s)) }`,
				name("requestParameters.secretId"), name("requestParameters.keyId"), name("requestParameters.aliasName")),
		},
		{
			ID: "self-trail-or-log-group-stopped", Title: "CloudTrail stopped or its log group deleted", Severity: activity.Critical,
			Rationale: "Stopping or deleting a trail, or deleting the log group this system reads, ends the CloudTrail " +
				"delivery every detection here depends on.",
			References: []string{"Activity Aware IDS self-protection", "MITRE ATT&CK T1562.008 Impair Defenses: Disable Cloud Logs"},
			Pattern: fmt.Sprintf(`{ (($.eventSource = "cloudtrail.amazonaws.com") && (($.eventName = "StopLogging") || ($.eventName = "DeleteTrail"))) || (($.eventSource = "logs.amazonaws.com") && ($.eventName = "DeleteLogGroup") && (($.requestParameters.logGroupName = "%s") || %s)) }`,
				n.TrailLogGroup, name("requestParameters.logGroupName")),
		},
		{
			ID: "guardduty-disabled", Title: "GuardDuty disabled or weakened", Severity: activity.Critical,
			Rationale: "Deleting or suspending the detector, or leaving the administrator account, turns off AWS's own threat detection.",
			References: []string{"MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools", "Panther AWS.GuardDuty.Disabled",
				"Sigma aws_guardduty_disruption"},
			Pattern: `{ ($.eventSource = "guardduty.amazonaws.com") && (($.eventName = "DeleteDetector") || ($.eventName = "DeleteMembers") || ($.eventName = "DisassociateFromMasterAccount") || ($.eventName = "DisassociateFromAdministratorAccount") || ($.eventName = "DisassociateMembers") || ($.eventName = "StopMonitoringMembers") || ($.eventName = "DeletePublishingDestination") || (($.eventName = "UpdateDetector") && ($.requestParameters.enable IS FALSE))) }`,
		},
		{
			ID: "securityhub-disabled", Title: "Security Hub disabled or weakened", Severity: activity.Critical,
			Rationale:  "Disabling Security Hub or its standards removes the findings a security team watches.",
			References: []string{"MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools", "Panther AWS.SecurityHub.Finding.Evasion"},
			Pattern:    `{ ($.eventSource = "securityhub.amazonaws.com") && (($.eventName = "DisableSecurityHub") || ($.eventName = "BatchDisableStandards") || ($.eventName = "DisableImportFindingsForProduct") || ($.eventName = "DisassociateFromMasterAccount") || ($.eventName = "DisassociateFromAdministratorAccount") || ($.eventName = "DeleteMembers") || ($.eventName = "DisableOrganizationAdminAccount")) }`,
		},
	}
	for _, p := range presets {
		c, err := filterpattern.Parse(p.Pattern)
		if err != nil {
			return nil, fmt.Errorf("detections: preset %s: %w", p.ID, err)
		}
		p.compiled = c
	}
	return presets, nil
}

func mustBuild(n Naming) []*Preset {
	p, err := build(n)
	if err != nil {
		panic(err)
	}
	return p
}
