// Package cloudtrailenvelope wraps CloudTrail records in the event
// EventBridge delivers them in ("AWS service events delivered via AWS
// CloudTrail", EventBridge User Guide), for the tests of the CloudTrail-events
// path: source aws.<service>, detail-type by eventType, the account and
// region of the record, the record as detail.
package cloudtrailenvelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/activity-aware/ids/sources/cloudtrailevents"
)

// DetailTypes maps a record's eventType to the detail-type CloudTrail sends
// it to EventBridge with.
var DetailTypes = map[string]string{
	"AwsApiCall":           cloudtrailevents.APICall,
	"AwsConsoleSignIn":     cloudtrailevents.ConsoleSignIn,
	"AwsServiceEvent":      cloudtrailevents.ServiceEvent,
	"AwsConsoleAction":     cloudtrailevents.ConsoleAction,
	"AwsCloudTrailInsight": cloudtrailevents.Insight,
}

// Wrap returns record in the envelope EventBridge delivers it in, with id
// i (an example UUID); fallback is the envelope's time when the record has
// no usable eventTime (EventBridge stamps its own). ok is false when record
// is no JSON object. The record's characters are kept as they are (no
// escaping of <, > and &) and laid out unlike the log's one line.
func Wrap(i int, record json.RawMessage, fallback time.Time) (ev []byte, ok bool, err error) {
	var r struct {
		EventType          string `json:"eventType"`
		EventSource        string `json:"eventSource"`
		EventTime          string `json:"eventTime"`
		AWSRegion          string `json:"awsRegion"`
		RecipientAccountID string `json:"recipientAccountId"`
	}
	if json.Unmarshal(record, &r) != nil {
		return nil, false, nil
	}
	dt, found := DetailTypes[r.EventType]
	if !found {
		dt = cloudtrailevents.APICall // records older than eventType are API calls
	}
	service, _, _ := strings.Cut(r.EventSource, ".")
	at := r.EventTime
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		at = fallback.UTC().Format(time.RFC3339)
	}
	m := map[string]any{
		"version": "0", "id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		"detail-type": dt, "source": "aws." + service,
		"account": r.RecipientAccountID, "time": at, "region": r.AWSRegion,
		"resources": []string{}, "detail": record,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, false, fmt.Errorf("cloudtrailenvelope: %w", err)
	}
	return b.Bytes(), true, nil
}
