// Package envtest checks, in tests, a runtime package's environment
// contract: the Config a construct writes with Config.Environment is the
// Config the Lambda main reads back with ConfigFromEnv, every variable
// written is read, and a malformed environment is refused naming the
// variable. Like net/http/httptest, it is imported by tests only.
package envtest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FromEnv is a package's ConfigFromEnv.
type FromEnv[C any] func(getenv func(string) string) (C, error)

// RoundTrip checks that fromEnv reads each config back from its environment
// (env, e.g. the method expression Config.Environment), reading every
// variable the environment holds.
func RoundTrip[C any](t testing.TB, fromEnv FromEnv[C], env func(C) map[string]string, configs ...C) {
	t.Helper()
	for _, c := range configs {
		vars := env(c)
		read := map[string]bool{}
		got, err := fromEnv(func(k string) string { read[k] = true; return vars[k] })
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("ConfigFromEnv(%v) = %+v, %v; want %+v", vars, got, err, c)
		}
		for k := range vars {
			if !read[k] {
				t.Errorf("Environment writes %s, which ConfigFromEnv never reads", k)
			}
		}
	}
}

// Case is one environment and what ConfigFromEnv makes of it: Want, or an
// error wrapping the package's ErrConfig whose text names WantErr.
type Case[C any] struct {
	Name    string
	Env     map[string]string
	Want    C
	WantErr string
}

// Cases runs fromEnv on each case as a subtest.
func Cases[C any](t *testing.T, fromEnv FromEnv[C], errConfig error, cases []Case[C]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := fromEnv(func(k string) string { return tc.Env[k] })
			if tc.WantErr != "" {
				if !errors.Is(err, errConfig) || !strings.Contains(err.Error(), tc.WantErr) {
					t.Fatalf("err = %v, want %v naming %s", err, errConfig, tc.WantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.Want) {
				t.Fatalf("ConfigFromEnv = %+v, %v; want %+v", got, err, tc.Want)
			}
		})
	}
}
