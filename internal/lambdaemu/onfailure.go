package lambdaemu

import (
	"encoding/json"
	"time"
)

// OnFailureRecord is the document Lambda sends to a function's on-failure
// destination when an asynchronous invocation failed its every attempt: the
// original event as requestPayload, the last attempt's error as
// responsePayload, and how many attempts were made. Tests park it in a
// queue as Lambda would.
func OnFailureRecord(functionARN string, payload []byte, last *Result, attempts int, at time.Time) ([]byte, error) {
	response := json.RawMessage(`null`)
	if last != nil && json.Valid(last.Payload) {
		response = last.Payload
	}
	return json.Marshal(map[string]any{
		"version":   "1.0",
		"timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId":              "00000000-0000-4000-8000-000000000000",
			"functionArn":            functionARN + ":$LATEST",
			"condition":              "RetriesExhausted",
			"approximateInvokeCount": attempts,
		},
		"requestPayload":  json.RawMessage(payload),
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": response,
	})
}
