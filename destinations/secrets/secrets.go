// Package secrets reads secrets from AWS Secrets Manager and caches them for a
// bounded time, so that a Lambda function does not call Secrets Manager on
// every invocation and still picks up a rotated secret.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/sync/singleflight"
)

// GetSecretValueAPI is the one method of *secretsmanager.Client the cache uses.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ GetSecretValueAPI = (*secretsmanager.Client)(nil)

// DefaultTTL is how long a value is cached when NewCache is given no TTL.
const DefaultTTL = 5 * time.Minute

// ErrNoString reports a secret without a SecretString (a binary secret, or an
// empty one).
var ErrNoString = errors.New("secrets: secret has no string value")

// Cache holds one secret's current value for a TTL. It is safe for concurrent
// use; concurrent callers that find the cache stale share one GetSecretValue
// call.
type Cache struct {
	client   GetSecretValueAPI
	secretID string
	ttl      time.Duration
	now      func() time.Time

	group singleflight.Group

	mu      sync.Mutex
	value   string
	fetched time.Time
}

// NewCache returns a cache of the secret secretID (an ARN or a name), whose
// value is fetched on first use and again once it is older than ttl. A ttl of
// zero (or less) caches nothing: every Value reads Secrets Manager (callers
// that want the default pass DefaultTTL).
func NewCache(client GetSecretValueAPI, secretID string, ttl time.Duration) *Cache {
	return &Cache{client: client, secretID: secretID, ttl: ttl, now: time.Now}
}

// Value returns the secret's SecretString (the AWSCURRENT version), from the
// cache while it is fresh. When a refresh fails, Value returns the error
// rather than a stale value: a rotated secret may have revoked the old one,
// and the caller's retry is the safer path. Errors name the secret id and
// carry the Secrets Manager error (errors.As a smithy.APIError gives its
// code); they never contain the value.
func (c *Cache) Value(ctx context.Context) (string, error) {
	if v, ok := c.fresh(); ok {
		return v, nil
	}
	ch := c.group.DoChan("", func() (any, error) {
		if v, ok := c.fresh(); ok {
			return v, nil
		}
		return c.fetch(ctx)
	})
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("secrets: get %s: %w", c.secretID, context.Cause(ctx))
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// Invalidate drops the cached value, so the next Value reads Secrets Manager:
// the caller learned that the value no longer works (a webhook Slack says is
// gone), and a rotated secret should be used at once, not after the TTL.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value, c.fetched = "", time.Time{}
}

func (c *Cache) fresh() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 || c.fetched.IsZero() || c.now().Sub(c.fetched) >= c.ttl {
		return "", false
	}
	return c.value, true
}

// fetch calls Secrets Manager with the context of the caller that found the
// cache stale; callers that joined it wait no longer than their own context.
func (c *Cache) fetch(ctx context.Context) (string, error) {
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.secretID)})
	if err != nil {
		return "", fmt.Errorf("secrets: get %s: %w", c.secretID, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("%w: %s", ErrNoString, c.secretID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value, c.fetched = *out.SecretString, c.now()
	return c.value, nil
}
