package eventbus

import (
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
)

func TestParseTrust(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"123456789012", "123456789012", false},
		{" 123456789012 , 210987654321,123456789012", "123456789012,210987654321", false},
		{"organization", "organization", false},
		{"123456789012,Organization", "123456789012,organization", false},
		{"", "", false},
		{"*", "", true},
		{"12345678901", "", true},
		{"123456789012,arn:aws:iam::1:root", "", true},
	}
	for _, tt := range tests {
		got, err := ParseTrust(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && got.String() != tt.want) {
			t.Errorf("ParseTrust(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if !(Trust{}).IsZero() {
		t.Error("zero Trust should trust no one")
	}
	if err := (Trust{}).Verify(eventFromAccount("123456789012"), nil); !errors.Is(err, ErrUnverified) {
		t.Errorf("zero Trust verified an event: %v", err)
	}
}

func eventFromAccount(account string) events.EventBridgeEvent {
	return events.EventBridgeEvent{ID: "e", Source: activity.SourcePrefix + "cloudtrail", DetailType: activity.DetailType, AccountID: account,
		Detail: []byte(`{"schemaVersion":"1.0","id":"a","source":"cloudtrail","subject":"s","severity":"high","time":"2024-01-01T00:00:00Z","account":{"id":"` + account + `"}}`)}
}

func TestDecodeVerified(t *testing.T) {
	member := eventFromAccount("210987654321")
	aboutOther := eventFromAccount("210987654321")
	aboutOther.Detail = eventFromAccount("123456789012").Detail
	tests := []struct {
		name  string
		trust Trust
		ev    events.EventBridgeEvent
		ok    bool
	}{
		{"listed producer", Trust{Accounts: []string{"210987654321"}}, member, true},
		{"listed producer may report for another account", Trust{Accounts: []string{"210987654321"}}, aboutOther, true},
		{"unlisted producer", Trust{Accounts: []string{"123456789012"}}, member, false},
		{"organization member about itself", Trust{Organization: true}, member, true},
		{"organization member about another account", Trust{Organization: true}, aboutOther, false},
		{"envelope without an account", Trust{Organization: true}, eventFromAccount(""), false},
	}
	for _, tt := range tests {
		_, err := DecodeVerified(tt.ev, tt.trust)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrUnverified)) {
			t.Errorf("%s: DecodeVerified = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
