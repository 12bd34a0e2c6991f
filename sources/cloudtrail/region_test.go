package cloudtrail

import "testing"

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
