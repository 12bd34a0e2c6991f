package denial

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
