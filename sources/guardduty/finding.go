package guardduty

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// Finding is the part of a GuardDuty finding (the detail of a "GuardDuty
// Finding" event) the source reads; see the GuardDuty API reference, Finding.
type Finding struct {
	SchemaVersion string   `json:"schemaVersion"`
	AccountID     string   `json:"accountId"`
	Region        string   `json:"region"`
	Partition     string   `json:"partition"`
	ID            string   `json:"id"`
	Arn           string   `json:"arn"`
	Type          string   `json:"type"`
	Resource      Resource `json:"resource"`
	Service       Service  `json:"service"`
	Severity      Number   `json:"severity"`
	CreatedAt     string   `json:"createdAt"`
	UpdatedAt     string   `json:"updatedAt"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
}

// Resource is the resource a finding is about.
type Resource struct {
	ResourceType     string `json:"resourceType"`
	AccessKeyDetails *struct {
		AccessKeyID string `json:"accessKeyId"`
		PrincipalID string `json:"principalId"`
		UserName    string `json:"userName"`
		UserType    string `json:"userType"`
	} `json:"accessKeyDetails"`
	InstanceDetails *struct {
		InstanceID string `json:"instanceId"`
	} `json:"instanceDetails"`
	S3BucketDetails []struct {
		Arn  string `json:"arn"`
		Name string `json:"name"`
	} `json:"s3BucketDetails"`
	EksClusterDetails *struct {
		Name string `json:"name"`
		Arn  string `json:"arn"`
	} `json:"eksClusterDetails"`
	LambdaDetails *struct {
		FunctionArn  string `json:"functionArn"`
		FunctionName string `json:"functionName"`
	} `json:"lambdaDetails"`
	RdsDbInstanceDetails *struct {
		DbInstanceIdentifier string `json:"dbInstanceIdentifier"`
		DbClusterIdentifier  string `json:"dbClusterIdentifier"`
	} `json:"rdsDbInstanceDetails"`
	EcsClusterDetails *struct {
		Name string `json:"name"`
		Arn  string `json:"arn"`
	} `json:"ecsClusterDetails"`
}

// Service is GuardDuty's account of the finding: what happened, how often.
type Service struct {
	Action         Action `json:"action"`
	ResourceRole   string `json:"resourceRole"`
	AdditionalInfo struct {
		Sample Bool `json:"sample"`
	} `json:"additionalInfo"`
	EventFirstSeen string `json:"eventFirstSeen"`
	EventLastSeen  string `json:"eventLastSeen"`
	Archived       bool   `json:"archived"`
	Count          Number `json:"count"`
}

// Action is the activity GuardDuty observed; one of its members is set,
// named by ActionType.
type Action struct {
	ActionType       string `json:"actionType"`
	AwsAPICallAction *struct {
		API             string           `json:"api"`
		ServiceName     string           `json:"serviceName"`
		CallerType      string           `json:"callerType"`
		ErrorCode       string           `json:"errorCode"`
		UserAgent       UserAgent        `json:"userAgent"`
		RemoteIPDetails *RemoteIPDetails `json:"remoteIpDetails"`
	} `json:"awsApiCallAction"`
	NetworkConnectionAction *struct {
		ConnectionDirection string           `json:"connectionDirection"`
		Protocol            string           `json:"protocol"`
		Blocked             bool             `json:"blocked"`
		RemoteIPDetails     *RemoteIPDetails `json:"remoteIpDetails"`
		RemotePortDetails   struct {
			Port Number `json:"port"`
		} `json:"remotePortDetails"`
		LocalPortDetails struct {
			Port Number `json:"port"`
		} `json:"localPortDetails"`
	} `json:"networkConnectionAction"`
	PortProbeAction *struct {
		PortProbeDetails []struct {
			RemoteIPDetails *RemoteIPDetails `json:"remoteIpDetails"`
		} `json:"portProbeDetails"`
	} `json:"portProbeAction"`
	DNSRequestAction *struct {
		Domain string `json:"domain"`
	} `json:"dnsRequestAction"`
	KubernetesAPICallAction *struct {
		Verb            string           `json:"verb"`
		RequestURI      string           `json:"requestUri"`
		RemoteIPDetails *RemoteIPDetails `json:"remoteIpDetails"`
	} `json:"kubernetesApiCallAction"`
}

// RemoteIPDetails is the remote party of an action, with GuardDuty's
// geolocation and network owner.
type RemoteIPDetails struct {
	IPAddressV4  string `json:"ipAddressV4"`
	IPAddressV6  string `json:"ipAddressV6"`
	Organization struct {
		AsnOrg string `json:"asnOrg"`
		Isp    string `json:"isp"`
		Org    string `json:"org"`
	} `json:"organization"`
	Country struct {
		CountryName string `json:"countryName"`
	} `json:"country"`
	City struct {
		CityName string `json:"cityName"`
	} `json:"city"`
}

// remote is the remote party of whichever action is set.
func (a *Action) remote() *RemoteIPDetails {
	switch {
	case a.AwsAPICallAction != nil && a.AwsAPICallAction.RemoteIPDetails != nil:
		return a.AwsAPICallAction.RemoteIPDetails
	case a.NetworkConnectionAction != nil && a.NetworkConnectionAction.RemoteIPDetails != nil:
		return a.NetworkConnectionAction.RemoteIPDetails
	case a.KubernetesAPICallAction != nil && a.KubernetesAPICallAction.RemoteIPDetails != nil:
		return a.KubernetesAPICallAction.RemoteIPDetails
	case a.PortProbeAction != nil:
		for _, d := range a.PortProbeAction.PortProbeDetails {
			if d.RemoteIPDetails != nil {
				return d.RemoteIPDetails
			}
		}
	}
	return nil
}

// apiCall is the action of an AWS_API_CALL finding as an activity action.
func (a *Action) apiCall() *activity.Action {
	c := a.AwsAPICallAction
	if c == nil || c.API == "" && c.ServiceName == "" {
		return nil
	}
	act := &activity.Action{Service: c.ServiceName, Name: c.API, ErrorCode: c.ErrorCode, Outcome: activity.Success}
	if code := c.ErrorCode; code != "" {
		act.Outcome = activity.Failed
		if strings.Contains(code, "AccessDenied") || strings.HasSuffix(code, "UnauthorizedOperation") {
			act.Outcome = activity.Denied
		}
	}
	return act
}

// describe says in a few words what the action was.
func (a *Action) describe() string {
	switch {
	case a.AwsAPICallAction != nil:
		c := a.AwsAPICallAction
		return joinNonEmpty(" ", a.ActionType, joinNonEmpty(":", c.ServiceName, c.API), paren(c.ErrorCode))
	case a.NetworkConnectionAction != nil:
		c := a.NetworkConnectionAction
		port := ""
		if p := c.RemotePortDetails.Port.Int(); p > 0 {
			port = "remote port " + strconv.FormatInt(p, 10)
		}
		blocked := ""
		if c.Blocked {
			blocked = "(blocked)"
		}
		return joinNonEmpty(" ", a.ActionType, c.ConnectionDirection, c.Protocol, port, blocked)
	case a.DNSRequestAction != nil:
		return joinNonEmpty(" ", a.ActionType, a.DNSRequestAction.Domain)
	case a.KubernetesAPICallAction != nil:
		return joinNonEmpty(" ", a.ActionType, a.KubernetesAPICallAction.Verb, a.KubernetesAPICallAction.RequestURI)
	}
	return a.ActionType
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// describe names the resource, e.g. "Instance i-0123".
func (r *Resource) describe() string {
	var names []string
	switch {
	case r.InstanceDetails != nil:
		names = append(names, r.InstanceDetails.InstanceID)
	case r.EksClusterDetails != nil:
		names = append(names, r.EksClusterDetails.Name)
	case r.LambdaDetails != nil:
		names = append(names, r.LambdaDetails.FunctionName)
	case r.RdsDbInstanceDetails != nil:
		names = append(names, awsevents.FirstOf(r.RdsDbInstanceDetails.DbInstanceIdentifier, r.RdsDbInstanceDetails.DbClusterIdentifier))
	case r.EcsClusterDetails != nil:
		names = append(names, r.EcsClusterDetails.Name)
	}
	for _, b := range r.S3BucketDetails {
		names = append(names, b.Name)
	}
	if r.AccessKeyDetails != nil && len(names) == 0 {
		names = append(names, joinNonEmpty(" ", r.AccessKeyDetails.UserName, r.AccessKeyDetails.AccessKeyID))
	}
	return joinNonEmpty(" ", r.ResourceType, joinNonEmpty(", ", names...))
}

// list is the finding's resources with their ARNs; an instance's ARN is
// built from its id, the others come with the finding.
func (r *Resource) list(partition, region, account string) []activity.Resource {
	var out []activity.Resource
	add := func(typ, arn string) {
		if arn != "" {
			out = append(out, activity.Resource{Type: typ, ARN: arn, AccountID: account})
		}
	}
	if d := r.InstanceDetails; d != nil && d.InstanceID != "" && region != "" && account != "" {
		add("AWS::EC2::Instance", "arn:"+partition+":ec2:"+region+":"+account+":instance/"+d.InstanceID)
	}
	for _, b := range r.S3BucketDetails {
		add("AWS::S3::Bucket", b.Arn)
	}
	if d := r.EksClusterDetails; d != nil {
		add("AWS::EKS::Cluster", d.Arn)
	}
	if d := r.LambdaDetails; d != nil {
		add("AWS::Lambda::Function", d.FunctionArn)
	}
	if d := r.EcsClusterDetails; d != nil {
		add("AWS::ECS::Cluster", d.Arn)
	}
	return out
}

// Number reads a finite JSON number or a string holding one (GuardDuty's
// examples write both); anything else reads as 0.
type Number struct {
	text string
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 1 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			b = []byte(strings.TrimSpace(s))
		}
	}
	if v, err := strconv.ParseFloat(string(b), 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		n.text = string(b)
	}
	return nil
}

// Float is the number, 0 when absent.
func (n Number) Float() float64 {
	v, _ := strconv.ParseFloat(n.text, 64)
	return v
}

// Int is the number truncated to an integer.
func (n Number) Int() int64 { return int64(n.Float()) }

// String formats the number with one decimal, as the console shows
// severities.
func (n Number) String() string { return strconv.FormatFloat(n.Float(), 'f', 1, 64) }

// Bool reads a JSON boolean or the strings "true"/"false"; anything else
// reads as false.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	*v = Bool(strings.EqualFold(s, "true"))
	return nil
}

// Bool is the value.
func (v Bool) Bool() bool { return bool(v) }

// UserAgent reads awsApiCallAction.userAgent: an object with fullUserAgent,
// or, in older findings, a string.
type UserAgent struct {
	FullUserAgent string
}

// UnmarshalJSON implements json.Unmarshaler.
func (u *UserAgent) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		u.FullUserAgent = s
		return nil
	}
	var o struct {
		FullUserAgent string `json:"fullUserAgent"`
	}
	if json.Unmarshal(b, &o) == nil {
		u.FullUserAgent = o.FullUserAgent
	}
	return nil
}
