// Package localaws is the plumbing shared by the project's local AWS endpoints
// (internal/localeventbridge, internal/localsecrets, internal/localsqs): an HTTP
// server speaking the AWS JSON 1.1 (or 1.0) protocol, which checks what the real service checks before an
// operation runs (method, content type, X-Amz-Target, a SigV4 signature),
// dispatches by target, writes errors the way AWS writes them, and injects
// request-level faults (errors and hangs) on demand.
//
// A Server needs no *testing.T: the end-to-end suite points a Lambda process at
// its URL through the SDK's AWS_ENDPOINT_URL_* variables. Every method is safe
// for concurrent use.
package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/uuid"
)

// ContentType is the content type of AWS JSON 1.1 requests and responses.
const ContentType = "application/x-amz-json-1.1"

// ContentType10 is the content type of AWS JSON 1.0 requests and responses
// (SQS, DynamoDB).
const ContentType10 = "application/x-amz-json-1.0"

// MaxBodyBytes bounds a request body. AWS rejects larger requests before any
// operation sees them; the endpoints' own limits are far below it.
const MaxBodyBytes = 8 << 20

// Error is an AWS JSON protocol error: it is written with Status, the
// X-Amzn-ErrorType header and the body {"__type": Type, "message": Message}.
type Error struct {
	Status  int
	Type    string
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("localaws: %d %s: %s", e.Status, e.Type, e.Message)
}

// Errors every JSON 1.1 service answers with, as AWS documents them in each
// API reference's Common Errors page.
var (
	// ErrThrottling is the request-level throttling error.
	ErrThrottling = &Error{Status: http.StatusBadRequest, Type: "ThrottlingException", Message: "Rate exceeded"}
	// ErrMissingAuthentication answers a request without an Authorization header.
	ErrMissingAuthentication = &Error{Status: http.StatusForbidden, Type: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"}
	// ErrIncompleteSignature answers a request whose Authorization header is not
	// a SigV4 signature.
	ErrIncompleteSignature = &Error{Status: http.StatusBadRequest, Type: "IncompleteSignatureException", Message: "The request signature does not conform to AWS standards."}
)

// Operation handles one target's request body (JSON) and returns the value to
// encode as the response, or an error: an *Error is written as it is, any other
// error as a 500 of the server's internal error type.
type Operation func(ctx context.Context, body []byte) (any, error)

// Config describes one service.
type Config struct {
	// TargetPrefix is what X-Amz-Target starts with, before the dot:
	// "AWSEvents" for EventBridge, "secretsmanager" for Secrets Manager.
	TargetPrefix string
	// InternalErrorType is the service's 500 error code, e.g.
	// "InternalException" (EventBridge), "InternalServiceError" (Secrets
	// Manager).
	InternalErrorType string
	// EndpointVariable is the SDK's service-specific endpoint variable, e.g.
	// "AWS_ENDPOINT_URL_EVENTBRIDGE"; see Server.Env.
	EndpointVariable string
	// Operations maps an operation name (the part of X-Amz-Target after the
	// dot) to its handler.
	Operations map[string]Operation
	// ContentType is the protocol's content type: ContentType (JSON 1.1)
	// when empty, ContentType10 for JSON 1.0 services.
	ContentType string
	// Query selects the AWS Query protocol (SNS): a form-encoded body
	// whose Action names the operation, answered with XML
	// (<ActionResponse><ActionResult>…) and XML errors
	// (<ErrorResponse><Error><Code>…). An operation's body is then the raw
	// form, and its result is encoded with encoding/xml inside the
	// ActionResult element. TargetPrefix is the Version the form must carry.
	Query bool
}

// ContentTypeQuery is the content type of AWS Query requests.
const ContentTypeQuery = "application/x-www-form-urlencoded"

// Server is a running local endpoint.
type Server struct {
	cfg     Config
	http    *httptest.Server
	closing chan struct{}
	once    sync.Once

	mu     sync.Mutex
	faults []fault

	requests atomic.Int64
	served   atomic.Int64
	faulted  atomic.Int64
}

// fault is one planned request-level answer: an error, or a hang when err is nil.
type fault struct{ err *Error }

// NewServer starts a server on a free loopback port.
func NewServer(cfg Config) *Server {
	if cfg.Query {
		cfg.ContentType = ContentTypeQuery
	} else if cfg.ContentType == "" {
		cfg.ContentType = ContentType
	}
	s := &Server{cfg: cfg, closing: make(chan struct{})}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the endpoint's base URL, e.g. "http://127.0.0.1:43117", for an SDK
// client's BaseEndpoint or an AWS_ENDPOINT_URL_* variable.
func (s *Server) URL() string { return s.http.URL }

// Region, AccessKeyID and SecretAccessKey are what AWSConfig gives SDK
// clients: any values work, the endpoints check a signature's presence only.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIDLOCALENDPOINT"
	SecretAccessKey = "local-endpoint-secret"
)

// AWSConfig is an SDK configuration aimed at this server: Region, static
// dummy credentials and BaseEndpoint set to URL(). Pass it to any service's
// NewFromConfig (the server answers its own service only).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL()),
	}
}

// Env is the environment ("KEY=value" pairs) under which a process's SDK
// configuration (config.LoadDefaultConfig) reaches this server: the service's
// AWS_ENDPOINT_URL_* variable, Region, the dummy credentials, and no shared
// config files or instance metadata, so that nothing from the developer's
// machine leaks in. Append it to a child process's environment, or t.Setenv
// each pair.
func (s *Server) Env() []string {
	return []string{
		s.cfg.EndpointVariable + "=" + s.URL(),
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets Env in the current process for the rest of a test, through
// t.Setenv (a *testing.T or *testing.B).
func (s *Server) Setenv(t interface{ Setenv(key, value string) }) {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Close releases hanging requests, then shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.http.Close()
}

// Fail answers the next n requests with e, before the operation runs.
func (s *Server) Fail(n int, e *Error) { s.plan(n, fault{err: e}) }

// Throttle answers the next n requests with ThrottlingException (400).
func (s *Server) Throttle(n int) { s.Fail(n, ErrThrottling) }

// FailInternal answers the next n requests with the service's 500 error.
func (s *Server) FailInternal(n int) {
	s.Fail(n, &Error{Status: http.StatusInternalServerError, Type: s.cfg.InternalErrorType, Message: "Internal error injected by the local endpoint"})
}

// Hang holds the next n requests without answering until the client gives up
// (its context or timeout) or the server is closed.
func (s *Server) Hang(n int) { s.plan(n, fault{}) }

// ClearFaults drops every planned fault not yet used.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Requests is the number of requests received, faulted or not, valid or not.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Served is the number of requests an operation answered (successfully or
// with its own error).
func (s *Server) Served() int { return int(s.served.Load()) }

// Faulted is the number of requests answered (or held) by a planned fault.
func (s *Server) Faulted() int { return int(s.faulted.Load()) }

func (s *Server) plan(n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

func (s *Server) nextFault() (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	op, body, perr := s.checkRequest(r)
	if perr != nil {
		s.writeError(w, perr)
		return
	}
	if f, ok := s.nextFault(); ok {
		s.faulted.Add(1)
		if f.err == nil {
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			// Drop the connection without an answer, as a dead peer would;
			// net/http recovers this panic and logs nothing.
			panic(http.ErrAbortHandler)
		}
		s.writeError(w, f.err)
		return
	}
	s.served.Add(1)
	if s.cfg.Query {
		out, err := op(r.Context(), body)
		s.writeQuery(w, r.Form.Get("Action"), out, err)
		return
	}
	out, err := op(r.Context(), body)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Status: http.StatusInternalServerError, Type: s.cfg.InternalErrorType, Message: err.Error()}
		}
		s.writeError(w, e)
		return
	}
	writeJSON(w, s.cfg.ContentType, http.StatusOK, out)
}

func (s *Server) writeError(w http.ResponseWriter, e *Error) {
	if s.cfg.Query {
		writeQueryError(w, e)
		return
	}
	writeError(w, s.cfg.ContentType, e)
}

// checkRequest returns the operation a request targets and its body, or the
// error AWS would answer with.
func (s *Server) checkRequest(r *http.Request) (Operation, []byte, *Error) {
	if r.Method != http.MethodPost {
		return nil, nil, &Error{Status: http.StatusMethodNotAllowed, Type: "UnknownOperationException", Message: "only POST is supported"}
	}
	if err := CheckSigV4(r); err != nil {
		return nil, nil, err
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, s.cfg.ContentType) {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: fmt.Sprintf("unexpected Content-Type %q, want %s", ct, s.cfg.ContentType)}
	}
	if s.cfg.Query {
		return s.checkQuery(r)
	}
	prefix, name, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	op, ok := s.cfg.Operations[name]
	if prefix != s.cfg.TargetPrefix || !ok {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "UnknownOperationException", Message: fmt.Sprintf("unknown X-Amz-Target %q", r.Header.Get("X-Amz-Target"))}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "reading the body: " + err.Error()}
	}
	if len(body) > MaxBodyBytes {
		return nil, nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "RequestEntityTooLargeException", Message: "request body too large"}
	}
	if !json.Valid(body) {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "the body is not valid JSON"}
	}
	return op, body, nil
}

// CheckSigV4 reports whether the request carries a SigV4 signature: an
// Authorization header naming AWS4-HMAC-SHA256 with Credential, SignedHeaders
// and Signature, and an X-Amz-Date. It checks presence and shape, not the
// signature itself: the local endpoints accept any dummy credentials.
func CheckSigV4(r *http.Request) *Error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return ErrMissingAuthentication
	}
	algo, params, _ := strings.Cut(auth, " ")
	if algo != "AWS4-HMAC-SHA256" || r.Header.Get("X-Amz-Date") == "" {
		return ErrIncompleteSignature
	}
	for _, part := range []string{"Credential=", "SignedHeaders=", "Signature="} {
		if !strings.Contains(params, part) {
			return ErrIncompleteSignature
		}
	}
	return nil
}

// Decode unmarshals an operation's request body, answering malformed input
// with SerializationException as AWS does.
func Decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: err.Error()}
	}
	return nil
}

// WriteError writes e the way AWS JSON 1.1 services do.
func WriteError(w http.ResponseWriter, e *Error) { writeError(w, ContentType, e) }

func writeError(w http.ResponseWriter, contentType string, e *Error) {
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	writeJSON(w, contentType, e.Status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
}

func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"__type":"InternalFailure","message":"local endpoint could not encode its response"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", NewID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// NewID returns a random UUID, as AWS uses for request, event and version ids.
func NewID() string { return uuid.NewString() }
