package secrets

import (
	"errors"
	"fmt"
	"time"
)

// EnvCacheTTL is the environment variable every destination function reads
// its secret cache TTL from (a Go duration). Default DefaultTTL.
const EnvCacheTTL = "SECRET_CACHE_TTL"

// ErrConfig reports an environment a destination function cannot run with.
var ErrConfig = errors.New("secrets: configuration")

// Config names a destination's secret and how long its value is cached.
type Config struct {
	// ARN is the Secrets Manager secret.
	ARN string
	// CacheTTL is how long its value is reused.
	CacheTTL time.Duration
}

// ConfigFromEnv reads the secret's ARN from the variable arnVar and the TTL
// from EnvCacheTTL through getenv (os.Getenv in a function). A missing ARN
// or a malformed TTL is an error wrapping ErrConfig that names the variable.
func ConfigFromEnv(getenv func(string) string, arnVar string) (Config, error) {
	c := Config{ARN: getenv(arnVar), CacheTTL: DefaultTTL}
	if c.ARN == "" {
		return Config{}, fmt.Errorf("%w: %s is not set", ErrConfig, arnVar)
	}
	if v := getenv(EnvCacheTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Config{}, fmt.Errorf("%w: %s: want a duration such as 5m, got %q", ErrConfig, EnvCacheTTL, v)
		}
		c.CacheTTL = d
	}
	return c, nil
}

// Environment returns the variables ConfigFromEnv reads back, the ARN under
// arnVar. Values may be CDK tokens.
func (c Config) Environment(arnVar string) map[string]string {
	return map[string]string{arnVar: c.ARN, EnvCacheTTL: c.CacheTTL.String()}
}
