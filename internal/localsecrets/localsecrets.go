// Package localsecrets is a local AWS Secrets Manager endpoint for tests: it
// speaks the JSON 1.1 protocol for secretsmanager.GetSecretValue, serves one
// secret to callers that ask for it by the ARN they were granted (or its
// name), refuses any other secret id as IAM would (AccessDeniedException),
// rotates the value on demand with a new VersionId, and fails on demand
// (throttling, 500s, hangs, from the embedded localaws.Server).
//
// Point a real SDK client at URL() with BaseEndpoint, or a process at it with
// AWS_ENDPOINT_URL_SECRETS_MANAGER; any static credentials do.
package localsecrets

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/activity-aware/ids/internal/localaws"
)

// Version stages Secrets Manager attaches to a secret's versions.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

type version struct {
	id      string
	value   string
	created time.Time
}

// Server is a running local Secrets Manager endpoint holding one secret.
type Server struct {
	*localaws.Server
	arn  string
	name string

	mu       sync.Mutex
	current  version
	previous *version
	deleted  bool
	calls    int
}

// New starts a server on a free loopback port holding the secret arn (a full
// Secrets Manager ARN, "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX")
// with value as its current SecretString. Close it when done.
func New(arn, value string) *Server {
	s := &Server{arn: arn, name: secretName(arn), current: newVersion(value)}
	s.Server = localaws.NewServer(localaws.Config{
		TargetPrefix:      "secretsmanager",
		InternalErrorType: "InternalServiceError",
		EndpointVariable:  "AWS_ENDPOINT_URL_SECRETS_MANAGER",
		Operations:        map[string]localaws.Operation{"GetSecretValue": s.getSecretValue},
	})
	return s
}

// ARN is the secret's ARN.
func (s *Server) ARN() string { return s.arn }

// SetValue rotates the secret: value becomes the AWSCURRENT version under a
// new VersionId, which it returns; the old one becomes AWSPREVIOUS.
func (s *Server) SetValue(value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current
	s.previous = &prev
	s.current = newVersion(value)
	return s.current.id
}

// Delete makes the secret disappear: from now on it is not found.
func (s *Server) Delete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = true
}

// Calls is the number of GetSecretValue requests that reached the operation
// (not answered by a request-level fault or a protocol error).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

type getSecretValueInput struct {
	SecretId     string
	VersionId    string
	VersionStage string
}

type getSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	SecretString  string
	VersionStages []string
	CreatedDate   float64
}

func (s *Server) getSecretValue(_ context.Context, body []byte) (any, error) {
	var in getSecretValueInput
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if in.SecretId == "" {
		return nil, &localaws.Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "You must provide a SecretId."}
	}
	if in.SecretId != s.arn && in.SecretId != s.name {
		return nil, &localaws.Error{Status: http.StatusBadRequest, Type: "AccessDeniedException", Message: fmt.Sprintf(
			"User is not authorized to perform: secretsmanager:GetSecretValue on resource: %s because no identity-based policy allows the secretsmanager:GetSecretValue action", in.SecretId)}
	}
	notFound := &localaws.Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}
	if s.deleted {
		return nil, notFound
	}
	v, stage := s.current, StageCurrent
	switch {
	case in.VersionStage == StagePrevious || (s.previous != nil && in.VersionId == s.previous.id):
		if s.previous == nil || (in.VersionId != "" && in.VersionId != s.previous.id) {
			return nil, notFound
		}
		v, stage = *s.previous, StagePrevious
	case in.VersionStage != "" && in.VersionStage != StageCurrent:
		return nil, notFound
	case in.VersionId != "" && in.VersionId != s.current.id:
		return nil, notFound
	}
	return getSecretValueOutput{
		ARN: s.arn, Name: s.name, VersionId: v.id, SecretString: v.value,
		VersionStages: []string{stage}, CreatedDate: float64(v.created.UnixMilli()) / 1e3,
	}, nil
}

func newVersion(value string) version {
	return version{id: localaws.NewID(), value: value, created: time.Now()}
}

// secretName is the friendly name inside a secret ARN: the resource part
// without the six random characters Secrets Manager appends.
func secretName(arn string) string {
	_, res, ok := strings.Cut(arn, ":secret:")
	if !ok {
		return arn
	}
	if i := strings.LastIndexByte(res, '-'); i > 0 && len(res)-i == 7 {
		return res[:i]
	}
	return res
}
