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
			Rationale:      "Deleting or suspending the detector, or leaving the administrator account, turns off AWS's own threat detection.",
			SeverityReason: "AWS's own threat detection goes dark for the account; there is no routine reason to do it",
			BenignCauses:   "Decommissioning an account or moving GuardDuty administration to another account.",
			References: []string{"MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools",
				refSigma + "aws_cloudtrail_guardduty_detector_deleted_or_updated",
				refPanther + "AWS.CloudTrail.SecurityConfigurationChange (aws_security_configuration_change)",
				"https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html"},
			Notes: "Sigma aws_cloudtrail_guardduty_detector_deleted_or_updated covers DeleteDetector and UpdateDetector(enable=false) " +
				"on successful calls only; Panther AWS.CloudTrail.SecurityConfigurationChange covers DeleteDetector among other " +
				"security services, successful calls only. This preset keeps failed attempts and adds the member and " +
				"administrator disassociations and publishing-destination deletion.",
			Pattern: `{ ($.eventSource = "guardduty.amazonaws.com") && (($.eventName = "DeleteDetector") || ($.eventName = "DeleteMembers") || ($.eventName = "DisassociateFromMasterAccount") || ($.eventName = "DisassociateFromAdministratorAccount") || ($.eventName = "DisassociateMembers") || ($.eventName = "StopMonitoringMembers") || ($.eventName = "DeletePublishingDestination") || (($.eventName = "UpdateDetector") && ($.requestParameters.enable IS FALSE))) }`,
		},
		{
			ID: "securityhub-disabled", Title: "Security Hub disabled or weakened", Severity: activity.Critical,
			Rationale:      "Disabling Security Hub or its standards removes the findings a security team watches.",
			SeverityReason: "the security team's findings stop for the account; there is no routine reason to do it",
			BenignCauses:   "Decommissioning an account, or turning off a standard the team decided not to follow.",
			References: []string{"MITRE ATT&CK T1562.001 Impair Defenses: Disable or Modify Tools",
				"https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DisableSecurityHub.html",
				"https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchDisableStandards.html",
				"https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DisableImportFindingsForProduct.html"},
			Notes: "No Panther or Sigma rule covers these calls: Panther AWS.SecurityHub.Finding.Evasion and Sigma " +
				"aws_securityhub_finding_evasion watch findings being edited (BatchUpdateFindings, DeleteInsight, UpdateFindings, " +
				"UpdateInsight), not Security Hub being disabled, and were cited here by mistake before.",
			Pattern: `{ ($.eventSource = "securityhub.amazonaws.com") && (($.eventName = "DisableSecurityHub") || ($.eventName = "BatchDisableStandards") || ($.eventName = "DisableImportFindingsForProduct") || ($.eventName = "DisassociateFromMasterAccount") || ($.eventName = "DisassociateFromAdministratorAccount") || ($.eventName = "DeleteMembers") || ($.eventName = "DisableOrganizationAdminAccount")) }`,
		},
	}
	for _, p := range presets {
		m, ok := presetMeta[p.ID]
		if !ok {
			return nil, fmt.Errorf("detections: preset %s: no pack and ATT&CK placement", p.ID)
		}
		p.Pack, p.Tactic, p.Technique, p.Stratus = m.pack, m.tactic, m.technique, m.stratus
	}
	presets = append(presets, threatPresets()...)
	for _, p := range presets {
		if p.Pack == "" {
			p.Pack = PackThreats
		}
		c, err := filterpattern.Parse(p.Pattern)
		if err != nil {
			return nil, fmt.Errorf("detections: preset %s: %w", p.ID, err)
		}
		p.compiled = c
	}
	return presets, nil
}

type meta struct {
	pack, tactic, technique string
	stratus                 []string
}

// presetMeta places the CIS, denial and self-protection presets in their pack
// and in MITRE ATT&CK; the threat presets carry their own.
var presetMeta = map[string]meta{
	DefaultID:                          {PackCIS, "Discovery", "T1580 Cloud Infrastructure Discovery", nil},
	"unauthorized-api-calls-tuned":     {PackCIS, "Discovery", "T1580 Cloud Infrastructure Discovery", nil},
	"console-signin-without-mfa":       {PackCIS, "Initial Access", "T1078.004 Valid Accounts: Cloud Accounts", []string{"aws.initial-access.console-login-without-mfa"}},
	"root-account-usage":               {PackCIS, "Privilege Escalation", "T1078.004 Valid Accounts: Cloud Accounts", nil},
	"iam-policy-changes":               {PackCIS, "Privilege Escalation", "T1098.003 Account Manipulation: Additional Cloud Roles", []string{"aws.persistence.iam-create-admin-user", "aws.persistence.iam-create-backdoor-role"}},
	"cloudtrail-config-changes":        {PackCIS, "Defense Evasion", "T1562.008 Impair Defenses: Disable or Modify Cloud Logs", []string{"aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.cloudtrail-delete"}},
	"console-auth-failures":            {PackCIS, "Credential Access", "T1110 Brute Force", nil},
	"kms-key-disabled-or-deleted":      {PackCIS, "Impact", "T1485 Data Destruction", nil},
	"s3-bucket-policy-changes":         {PackCIS, "Exfiltration", "T1537 Transfer Data to Cloud Account", nil},
	"config-changes":                   {PackCIS, "Defense Evasion", "T1562.008 Impair Defenses: Disable or Modify Cloud Logs", nil},
	"security-group-changes":           {PackCIS, "Defense Evasion", "T1562.007 Impair Defenses: Disable or Modify Cloud Firewall", []string{"aws.exfiltration.ec2-security-group-open-port-22-ingress"}},
	"nacl-changes":                     {PackCIS, "Defense Evasion", "T1562.007 Impair Defenses: Disable or Modify Cloud Firewall", nil},
	"network-gateway-changes":          {PackCIS, "Defense Evasion", "T1562.007 Impair Defenses: Disable or Modify Cloud Firewall", nil},
	"route-table-changes":              {PackCIS, "Defense Evasion", "T1562.007 Impair Defenses: Disable or Modify Cloud Firewall", nil},
	"vpc-changes":                      {PackCIS, "Defense Evasion", "T1562.007 Impair Defenses: Disable or Modify Cloud Firewall", nil},
	"organizations-changes":            {PackCIS, "Defense Evasion", "T1666 Modify Cloud Resource Hierarchy", []string{"aws.defense-evasion.organizations-leave"}},
	"self-subscription-filter-changed": {PackSelfProtection, "Defense Evasion", "T1562.008 Impair Defenses: Disable or Modify Cloud Logs", nil},
	"self-lambda-changed":              {PackSelfProtection, "Defense Evasion", "T1562.001 Impair Defenses: Disable or Modify Tools", nil},
	"self-bus-changed":                 {PackSelfProtection, "Defense Evasion", "T1562.001 Impair Defenses: Disable or Modify Tools", nil},
	"self-secret-or-key-changed":       {PackSelfProtection, "Defense Evasion", "T1562.001 Impair Defenses: Disable or Modify Tools", nil},
	"self-trail-or-log-group-stopped":  {PackSelfProtection, "Defense Evasion", "T1562.008 Impair Defenses: Disable or Modify Cloud Logs", []string{"aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.cloudtrail-delete"}},
	"guardduty-disabled":               {PackThreats, "Defense Evasion", "T1562.001 Impair Defenses: Disable or Modify Tools", nil},
	"securityhub-disabled":             {PackThreats, "Defense Evasion", "T1562.001 Impair Defenses: Disable or Modify Tools", nil},
}

func mustBuild(n Naming) []*Preset {
	p, err := build(n)
	if err != nil {
		panic(err)
	}
	return p
}
