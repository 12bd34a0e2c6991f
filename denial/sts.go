package denial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// Sentinel errors of the STS decoder, for errors.Is.
var (
	// ErrEmptyMessage reports a call with no encoded message to decode.
	ErrEmptyMessage = errors.New("denial: empty encoded authorization message")
	// ErrInvalidMessage reports a message STS refused as invalid (malformed,
	// expired, or from another account).
	ErrInvalidMessage = errors.New("denial: invalid encoded authorization message")
)

// DecodeAuthorizationMessageAPI is the part of the STS client the decoder
// uses; *sts.Client implements it.
type DecodeAuthorizationMessageAPI interface {
	DecodeAuthorizationMessage(ctx context.Context, in *sts.DecodeAuthorizationMessageInput, optFns ...func(*sts.Options)) (*sts.DecodeAuthorizationMessageOutput, error)
}

var _ DecodeAuthorizationMessageAPI = (*sts.Client)(nil)

// STSDecoder decodes encoded authorization failure messages with
// sts:DecodeAuthorizationMessage. The caller needs that permission; the Slack
// destination grants it only when decoding is turned on.
type STSDecoder struct {
	client DecodeAuthorizationMessageAPI
}

// NewSTSDecoder returns a decoder that calls client.
func NewSTSDecoder(client DecodeAuthorizationMessageAPI) *STSDecoder {
	return &STSDecoder{client: client}
}

// DecodeAuthorizationMessage returns the decoded message, a JSON document
// that names the action, resource, context and matched statements of the
// denied request. An invalid message is an error wrapping ErrInvalidMessage.
func (d *STSDecoder) DecodeAuthorizationMessage(ctx context.Context, encoded string) (string, error) {
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return "", ErrEmptyMessage
	}
	out, err := d.client.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
	if err != nil {
		var invalid *types.InvalidAuthorizationMessageException
		if errors.As(err, &invalid) {
			return "", fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
		return "", fmt.Errorf("denial: decode authorization message: %w", err)
	}
	return aws.ToString(out.DecodedMessage), nil
}

// decodedMessage is the part of a decoded authorization message (the JSON
// sts:DecodeAuthorizationMessage returns) that explains the denial.
type decodedMessage struct {
	Allowed      bool `json:"allowed"`
	ExplicitDeny bool `json:"explicitDeny"`
	Context      struct {
		Action   string `json:"action"`
		Resource string `json:"resource"`
	} `json:"context"`
}

// ApplyDecoded returns p refined by a decoded authorization message: the
// action and resource AWS evaluated, and whether an explicit deny or the lack
// of an allow refused the call (with the statement that would allow it in the
// second case). p may be nil; it is not modified. ErrInvalidMessage reports a
// message that is not the JSON AWS documents.
func ApplyDecoded(p *activity.Permission, decoded string) (*activity.Permission, error) {
	var d decodedMessage
	if err := json.Unmarshal([]byte(decoded), &d); err != nil {
		return nil, fmt.Errorf("%w: decoded message is not JSON: %v", ErrInvalidMessage, err)
	}
	out := activity.Permission{}
	if p != nil {
		out = *p
	}
	if d.Context.Action != "" {
		out.Action = d.Context.Action
	}
	if d.Context.Resource != "" {
		out.Resource = d.Context.Resource
	}
	out.Encoded = false
	switch {
	case d.ExplicitDeny:
		out.Reason = ReasonDecodedExplicitDeny
	case !d.Allowed:
		out.Reason = ReasonDecodedNoAllow
	}
	out.ReasonText = ReasonText(out.Reason)
	out.Guardrail = IsGuardrail(out.Reason)
	out.Fixable = reasonClasses[out.Reason].fixable && out.Action != ""
	out.Statement = nil
	if out.Fixable {
		if out.Resource == "" {
			out.Resource = AnyResource
		}
		out.Statement = allowStatement(out.Action, out.Resource)
	}
	return &out, nil
}
