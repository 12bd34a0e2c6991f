// Package signature signs and verifies webhooks with the Standard Webhooks
// scheme (https://www.standardwebhooks.com, symmetric "v1"): the headers
// webhook-id, webhook-timestamp (Unix seconds) and webhook-signature, a
// space-separated list of "v1,<base64 of HMAC-SHA256 over
// id.timestamp.body>" keyed with the base64-decoded secret ("whsec_…").
//
// Receivers of the activity webhook import this package (it needs only the
// standard library) and call Verify on the raw request body, before parsing
// it:
//
//	v, err := signature.NewVerifier(os.Getenv("WEBHOOK_SIGNING_SECRET"))
//	...
//	if err := v.Verify(r.Header, body, time.Now()); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Prefix marks a serialized symmetric secret.
const Prefix = "whsec_"

// Secret sizes the scheme allows: at least 24 bytes (192 bits), at most 64.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// DefaultTolerance is how far a timestamp may be from the receiver's clock,
// either way, as the scheme's reference libraries allow.
const DefaultTolerance = 5 * time.Minute

// Errors Verify and NewVerifier return, for errors.Is.
var (
	ErrInvalidSecret    = errors.New("signature: invalid signing secret")
	ErrMissingHeader    = errors.New("signature: missing header")
	ErrInvalidTimestamp = errors.New("signature: invalid timestamp")
	ErrTimestampOutside = errors.New("signature: timestamp outside the tolerance")
	ErrNoMatch          = errors.New("signature: no matching signature")
)

// Key is a decoded signing secret. It signs and verifies.
type Key struct {
	key []byte
	// Tolerance bounds the timestamp's distance from now in Verify
	// (DefaultTolerance when 0).
	Tolerance time.Duration
}

// NewVerifier decodes a secret, "whsec_<base64>" or the bare base64, into a
// Key. The error never contains the secret.
func NewVerifier(secret string) (*Key, error) {
	s := strings.TrimPrefix(strings.TrimSpace(secret), Prefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// The decoder's error names an offset into the secret, not its text,
		// but the secret's shape is nobody's business either.
		return nil, fmt.Errorf("%w: not base64", ErrInvalidSecret)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return &Key{key: key}, nil
}

// NewSigner is NewVerifier, named for the sender's side.
func NewSigner(secret string) (*Key, error) { return NewVerifier(secret) }

// GenerateSecret returns a new random secret of 32 bytes, serialized with
// Prefix.
func GenerateSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Prefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature value for one attempt: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body".
func (k *Key) Sign(id string, timestamp time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(k.mac(id, strconv.FormatInt(timestamp.Unix(), 10), body))
}

// Headers returns the three headers of one attempt.
func (k *Key) Headers(id string, timestamp time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(timestamp.Unix(), 10))
	h.Set(HeaderSignature, k.Sign(id, timestamp, body))
	return h
}

func (k *Key) mac(id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a received webhook: the three headers are present, the
// timestamp is within the tolerance of now, and one of the v1 signatures in
// the header matches body (compared in constant time). Signatures of other
// versions are skipped, so a sender may add them during a migration.
func (k *Key) Verify(h http.Header, body []byte, now time.Time) error {
	if err := k.VerifyIgnoringTimestamp(h, body); err != nil {
		return err
	}
	ts, _ := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64) // checked above
	tol := k.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d >= tol || d <= -tol {
		return fmt.Errorf("%w: %s from now", ErrTimestampOutside, d.Round(time.Second))
	}
	return nil
}

// VerifyIgnoringTimestamp is Verify without the tolerance check, for
// replaying a stored webhook. The timestamp must still be a number.
func (k *Key) VerifyIgnoringTimestamp(h http.Header, body []byte) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	for name, v := range map[string]string{HeaderID: id, HeaderTimestamp: ts, HeaderSignature: sigs} {
		if v == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, name)
		}
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrInvalidTimestamp, ts)
	}
	want := k.mac(id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}
