package signature

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The scheme's published test vector (standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go, TestWebhookSign, and the same values in every
// language's tests).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// vectorWrong is the invalid signature the reference tests use.
	vectorWrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

func TestSignMatchesPublishedVector(t *testing.T) {
	for _, secret := range []string{vectorSecret, strings.TrimPrefix(vectorSecret, Prefix)} {
		k, err := NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload)); got != vectorSignature {
			t.Fatalf("Sign = %s, want the published %s", got, vectorSignature)
		}
	}
}

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, vectorID)
	h.Set(HeaderTimestamp, strconv.Itoa(vectorTimestamp))
	h.Set(HeaderSignature, sig)
	return h
}

// TestVerify runs the reference libraries' verification cases over the
// published vector.
func TestVerify(t *testing.T) {
	at := time.Unix(vectorTimestamp, 0)
	k, err := NewVerifier(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"valid signature is valid", vectorHeader(vectorSignature), vectorPayload, at, nil},
		{"missing id", func() http.Header { h := vectorHeader(vectorSignature); h.Del(HeaderID); return h }(), vectorPayload, at, ErrMissingHeader},
		{"missing timestamp", func() http.Header { h := vectorHeader(vectorSignature); h.Del(HeaderTimestamp); return h }(), vectorPayload, at, ErrMissingHeader},
		{"missing signature", func() http.Header { h := vectorHeader(vectorSignature); h.Del(HeaderSignature); return h }(), vectorPayload, at, ErrMissingHeader},
		{"invalid signature is invalid", vectorHeader(vectorWrong), vectorPayload, at, ErrNoMatch},
		{"changed body", vectorHeader(vectorSignature), `{"test": 2432232315}`, at, ErrNoMatch},
		{"old timestamp fails", vectorHeader(vectorSignature), vectorPayload, at.Add(DefaultTolerance), ErrTimestampOutside},
		{"new timestamp fails", vectorHeader(vectorSignature), vectorPayload, at.Add(-DefaultTolerance - time.Second), ErrTimestampOutside},
		{"within tolerance", vectorHeader(vectorSignature), vectorPayload, at.Add(DefaultTolerance - time.Second), nil},
		{"valid multi sig is valid", vectorHeader(strings.Join([]string{vectorWrong, "v2," + strings.TrimPrefix(vectorWrong, "v1,"), vectorSignature, vectorWrong}, " ")), vectorPayload, at, nil},
		{"right value under another version", vectorHeader("v1a," + strings.TrimPrefix(vectorSignature, "v1,")), vectorPayload, at, ErrNoMatch},
		{"timestamp not a number", func() http.Header {
			h := vectorHeader(vectorSignature)
			h.Set(HeaderTimestamp, "1614265330.5")
			return h
		}(), vectorPayload, at, ErrInvalidTimestamp},
		{"id changed", func() http.Header { h := vectorHeader(vectorSignature); h.Set(HeaderID, vectorID+"x"); return h }(), vectorPayload, at, ErrNoMatch},
	}
	for _, tt := range tests {
		err := k.Verify(tt.header, []byte(tt.body), tt.now)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The tolerance is ignored on request, the signature never.
	if err := k.VerifyIgnoringTimestamp(vectorHeader(vectorSignature), []byte(vectorPayload)); err != nil {
		t.Errorf("VerifyIgnoringTimestamp = %v", err)
	}
}

func TestSecrets(t *testing.T) {
	for _, bad := range []string{"", "whsec_", "whsec_not base64!", "whsec_" + strings.Repeat("A", 28), "whsec_" + strings.Repeat("A", 100)} {
		if _, err := NewVerifier(bad); !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("NewVerifier(%q) = %v, want ErrInvalidSecret", bad, err)
		}
	}
	s := GenerateSecret()
	k, err := NewSigner(s)
	if err != nil || !strings.HasPrefix(s, Prefix) || s == GenerateSecret() {
		t.Fatalf("GenerateSecret = %q: %v", s, err)
	}
	now := time.Now()
	if err := k.Verify(k.Headers("msg_1", now, []byte("body")), []byte("body"), now); err != nil {
		t.Fatalf("round trip: %v", err)
	}
}
