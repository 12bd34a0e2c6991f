package cloudtrail

import (
	"testing"
	"time"
)

func TestValidRegion(t *testing.T) {
	tests := []struct {
		region string
		want   bool
	}{
		{"us-east-1", true},
		{"us-gov-west-1", true},
		{"cn-northwest-1", true},
		{"ap-southeast-12", true},
		{"sagov-westsouth-1r", false}, // pseudonymized in the shared fixtures
		{"us-east", false},
		{"eu-1", false},
		{"us-east-1-", false},
		{"-us-east-1", false},
		{"us--east-1", false},
		{"US-east-1", false},
		{"us-east-1a", false},
		{"", false},
		{"a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-1", false}, // longer than 32
	}
	for _, tt := range tests {
		if got := validRegion(tt.region); got != tt.want {
			t.Errorf("validRegion(%q) = %v, want %v", tt.region, got, tt.want)
		}
	}
}

func TestParseTimeForms(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, "" for no time
	}{
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456789Z"},
		{"2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05Z"},
		{"2021-10-19 01:06:59", "2021-10-19T01:06:59Z"},
		{"2021-10-19 01:06:59Z", "2021-10-19T01:06:59Z"},
		{"2024-01-02T03:04:05", "2024-01-02T03:04:05Z"},
		{"0001-01-01T00:00:00Z", ""},
		{"redacted", ""},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		if s := got.Format(time.RFC3339Nano); ok != (tt.want != "") || ok && s != tt.want {
			t.Errorf("parseTime(%q) = %s, %v; want %q", tt.in, s, ok, tt.want)
		}
	}
}
