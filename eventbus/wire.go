package eventbus

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	gojson "github.com/goccy/go-json"
)

// putEventsProtocol is the EventBridge client's protocol (AWS JSON 1.1)
// with the body of a PutEvents request encoded by goccy/go-json instead of
// the SDK's serializer, which escapes a string byte by byte once it meets a
// quote: an activity's Detail is a JSON document, a quote every few bytes,
// and escaping it cost the source more CPU than standardizing the records
// (see the README's "Speed"). The headers are the SDK's own; a
// request with a member this encoding does not write (an entry's Time, an
// endpoint id) goes the SDK's way. TestPutEventsBody checks the body decodes
// as the SDK's does.
type putEventsProtocol struct {
	smithyhttp.ClientProtocol
}

// wireEntry is a PutEventsRequestEntry as AWS JSON writes it, without Time.
type wireEntry struct {
	Detail       *string  `json:"Detail,omitempty"`
	DetailType   *string  `json:"DetailType,omitempty"`
	EventBusName *string  `json:"EventBusName,omitempty"`
	Resources    []string `json:"Resources,omitempty"`
	Source       *string  `json:"Source,omitempty"`
	TraceHeader  *string  `json:"TraceHeader,omitempty"`
}

// SerializeRequest implements smithyhttp.ClientProtocol.
func (p putEventsProtocol) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	pe, ok := in.(*eventbridge.PutEventsInput)
	if !ok || pe.EndpointId != nil {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	body, ok := putEventsBody(pe.Entries)
	if !ok {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	// The method, path and headers the SDK's way, from an empty input.
	if err := p.ClientProtocol.SerializeRequest(ctx, schema, &eventbridge.PutEventsInput{}, req); err != nil {
		return err
	}
	sreq, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("eventbus: set PutEvents body: %w", err)
	}
	*req = *sreq
	return nil
}

// putEventsBody encodes {"Entries":[…]}; ok is false when an entry has a
// member wireEntry lacks.
func putEventsBody(entries []types.PutEventsRequestEntry) ([]byte, bool) {
	wire := struct {
		Entries []wireEntry `json:"Entries"`
	}{Entries: make([]wireEntry, len(entries))}
	for i, e := range entries {
		if e.Time != nil || (e.Resources != nil && len(e.Resources) == 0) {
			return nil, false // (the SDK writes an empty list; omitempty would not)
		}
		wire.Entries[i] = wireEntry{Detail: e.Detail, DetailType: e.DetailType, EventBusName: e.EventBusName, Resources: e.Resources, Source: e.Source, TraceHeader: e.TraceHeader}
	}
	// Marshal copies the encoding out of goccy's pooled buffer at its size;
	// an Encoder writing to a bytes.Buffer grows (and clears) twice that.
	body, err := gojson.MarshalWithOption(&wire, gojson.DisableHTMLEscape())
	return body, err == nil
}
