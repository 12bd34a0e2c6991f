package securityhub

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/activity-aware/ids/sources/awsevents"
)

// Finding is the part of an ASFF finding the source reads; see the Security
// Hub API reference, AwsSecurityFinding.
type Finding struct {
	SchemaVersion string            `json:"SchemaVersion"`
	ID            string            `json:"Id"`
	ProductArn    string            `json:"ProductArn"`
	ProductName   string            `json:"ProductName"`
	CompanyName   string            `json:"CompanyName"`
	GeneratorID   string            `json:"GeneratorId"`
	AwsAccountID  string            `json:"AwsAccountId"`
	Region        string            `json:"Region"`
	Types         []string          `json:"Types"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	Severity      FindingSeverity   `json:"Severity"`
	Title         string            `json:"Title"`
	Description   string            `json:"Description"`
	ProductFields map[string]string `json:"ProductFields"`
	Resources     []struct {
		Type string `json:"Type"`
		ID   string `json:"Id"`
	} `json:"Resources"`
	Compliance struct {
		Status            string `json:"Status"`
		SecurityControlID string `json:"SecurityControlId"`
	} `json:"Compliance"`
	Remediation struct {
		Recommendation struct {
			Text string `json:"Text"`
		} `json:"Recommendation"`
	} `json:"Remediation"`
	WorkflowState string `json:"WorkflowState"`
	Workflow      struct {
		Status string `json:"Status"`
	} `json:"Workflow"`
	RecordState string `json:"RecordState"`
}

// FindingSeverity is ASFF's Severity.
type FindingSeverity struct {
	Label      string `json:"Label"`
	Normalized Score  `json:"Normalized"`
}

// Score reads a number that may be absent.
type Score struct {
	value float64
	set   bool
}

// UnmarshalJSON implements json.Unmarshaler; anything but a number (or a
// string holding one) reads as absent.
func (s *Score) UnmarshalJSON(b []byte) error {
	text := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if v, err := strconv.ParseFloat(text, 64); err == nil && v >= 0 && v <= 100 {
		*s = Score{value: v, set: true}
	}
	return nil
}

var _ json.Unmarshaler = (*Score)(nil)

// Product is the name of the product that sent the finding to Security Hub:
// ProductName, else the name Security Hub records in ProductFields, else the
// last part of ProductArn.
func (f *Finding) Product() string {
	if n := awsevents.FirstOf(f.ProductName, f.ProductFields["aws/securityhub/ProductName"]); n != "" {
		return n
	}
	if i := strings.LastIndex(f.ProductArn, "/"); i >= 0 {
		return f.ProductArn[i+1:]
	}
	return ""
}

// control is the id of the security control or rule that produced the
// finding, e.g. "IAM.6" or "1.3".
func (f *Finding) control() string {
	return awsevents.FirstOf(f.Compliance.SecurityControlID, f.ProductFields["ControlId"], f.ProductFields["RuleId"])
}
