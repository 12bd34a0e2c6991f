package kinesispoller

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestCheckpoint(t *testing.T) {
	recs := []types.Record{{SequenceNumber: aws.String("10")}, {SequenceNumber: aws.String("20")}, {SequenceNumber: aws.String("30")}}
	tests := []struct {
		name   string
		resp   string
		failed bool
		want   int
	}{
		{"success", `{"batchItemFailures":[]}`, false, -1},
		{"null", `null`, false, -1},
		{"not a response", `"ok"`, false, -1},
		{"function error", ``, true, 0},
		{"lowest failure", `{"batchItemFailures":[{"itemIdentifier":"30"},{"itemIdentifier":"20"}]}`, false, 1},
		{"unknown identifier", `{"batchItemFailures":[{"itemIdentifier":"99"}]}`, false, 0},
		{"empty identifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, false, 0},
	}
	for _, tt := range tests {
		if got := checkpoint(recs, []byte(tt.resp), tt.failed); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
