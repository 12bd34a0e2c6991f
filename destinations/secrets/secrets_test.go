package secrets_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/internal/localsecrets"
)

const (
	secretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aaids/slack-webhook-Ab12Cd"
	webhook   = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"
	rotated   = `{"url":"https://hooks.slack.com/services/T0000/B0000/ROTATEDROTATEDROTATED1"}`
)

// newClient is a real SDK client pointed at srv, without retries so that the
// server's call count is the cache's.
func newClient(srv *localsecrets.Server) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(srv.AWSConfig(), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
}

func TestCacheCachesWithinTTL(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	c := secrets.NewCache(newClient(srv), secretARN, time.Hour)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			v, err := c.Value(context.Background())
			if err != nil || v != webhook {
				t.Errorf("Value = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	srv.SetValue(rotated)
	if v, _ := c.Value(context.Background()); v != webhook {
		t.Errorf("within the TTL Value = %q, want the cached value", v)
	}
	if srv.Calls() != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", srv.Calls())
	}
}

func TestCachePicksUpRotation(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	const ttl = 50 * time.Millisecond
	c := secrets.NewCache(newClient(srv), secretARN, ttl)

	if v, err := c.Value(context.Background()); err != nil || v != webhook {
		t.Fatalf("Value = %q, %v", v, err)
	}
	srv.SetValue(rotated)
	time.Sleep(2 * ttl)
	if v, err := c.Value(context.Background()); err != nil || v != rotated {
		t.Fatalf("after the TTL Value = %q, %v; want the rotated value", v, err)
	}
	if srv.Calls() != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2", srv.Calls())
	}
}

func TestCacheErrors(t *testing.T) {
	tests := []struct {
		name     string
		secretID string
		prepare  func(*localsecrets.Server)
		wantCode string
		wantIs   error
	}{
		{"deleted secret", secretARN, func(s *localsecrets.Server) { s.Delete() }, "ResourceNotFoundException", nil},
		{"secret not granted", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-Zz99Yy", nil, "AccessDeniedException", nil},
		{"service error", secretARN, func(s *localsecrets.Server) { s.FailInternal(1) }, "InternalServiceError", nil},
		{"empty value", secretARN, func(s *localsecrets.Server) { s.SetValue("") }, "", secrets.ErrNoString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := localsecrets.New(secretARN, webhook)
			defer srv.Close()
			if tt.prepare != nil {
				tt.prepare(srv)
			}
			c := secrets.NewCache(newClient(srv), tt.secretID, time.Hour)
			v, err := c.Value(context.Background())
			if err == nil || v != "" {
				t.Fatalf("Value = %q, %v; want an error", v, err)
			}
			if tt.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Errorf("error = %v, want code %s", err, tt.wantCode)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error = %v, want %v", err, tt.wantIs)
			}
			if !strings.HasPrefix(err.Error(), "secrets: ") || !strings.Contains(err.Error(), tt.secretID) {
				t.Errorf("error does not name the component and secret: %v", err)
			}
			if strings.Contains(err.Error(), webhook) || strings.Contains(err.Error(), "hooks.slack.com") {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

func TestCacheErrorIsNotCached(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	c := secrets.NewCache(newClient(srv), secretARN, time.Hour)
	srv.Throttle(1)
	if _, err := c.Value(context.Background()); err == nil {
		t.Fatal("throttled call succeeded")
	}
	if v, err := c.Value(context.Background()); err != nil || v != webhook {
		t.Fatalf("after the throttle Value = %q, %v", v, err)
	}
}

func TestCacheHonoursContext(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	srv.Hang(1)
	c := secrets.NewCache(newClient(srv), secretARN, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := c.Value(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want a deadline", err)
	}
}

// TestCacheThroughEnvironmentEndpoint runs the way the Lambda does: the
// configuration comes from the environment, AWS_ENDPOINT_URL_SECRETS_MANAGER
// pointing at the local endpoint.
func TestCacheThroughEnvironmentEndpoint(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	srv.Setenv(t)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := secrets.NewCache(secretsmanager.NewFromConfig(cfg), secretARN, time.Minute)
	if v, err := c.Value(context.Background()); err != nil || v != webhook {
		t.Fatalf("Value = %q, %v", v, err)
	}
}

// TestCacheZeroTTLCachesNothing: SECRET_CACHE_TTL=0s means every read goes
// to Secrets Manager, not the default five minutes.
func TestCacheZeroTTLCachesNothing(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	c := secrets.NewCache(newClient(srv), secretARN, 0)
	if v, err := c.Value(context.Background()); err != nil || v != webhook {
		t.Fatalf("Value = %q, %v", v, err)
	}
	srv.SetValue(rotated)
	if v, err := c.Value(context.Background()); err != nil || v != rotated {
		t.Fatalf("Value = %q, %v; want the rotated value at once", v, err)
	}
	if srv.Calls() != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2", srv.Calls())
	}
}

// TestCacheInvalidate: a dropped value is read again at once, within the TTL.
func TestCacheInvalidate(t *testing.T) {
	srv := localsecrets.New(secretARN, webhook)
	defer srv.Close()
	c := secrets.NewCache(newClient(srv), secretARN, time.Hour)
	if _, err := c.Value(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetValue(rotated)
	c.Invalidate()
	if v, err := c.Value(context.Background()); err != nil || v != rotated {
		t.Fatalf("after Invalidate Value = %q, %v; want the rotated value", v, err)
	}
}
