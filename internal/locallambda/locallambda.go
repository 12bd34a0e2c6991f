// Package locallambda is a local AWS Lambda Invoke endpoint for tests: it
// speaks the Lambda REST protocol for lambda.Invoke (POST
// /2015-03-31/functions/NAME/invocations), finds the function by name or ARN
// (with or without a qualifier) among the functions the test runs under the
// Lambda runtime emulator (internal/lambdaemu), and answers as Lambda does:
// the function's response with X-Amz-Function-Error when it failed, 202 for
// an asynchronous ("Event") invocation, ResourceNotFoundException for an
// unknown function.
//
// Point a real SDK client at URL() with BaseEndpoint, or a process at it with
// AWS_ENDPOINT_URL_LAMBDA; any static credentials do.
package locallambda

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/localaws"
)

// Function is what the endpoint invokes; *lambdaemu.Function implements it.
type Function interface {
	Invoke(ctx context.Context, payload []byte) (*lambdaemu.Result, error)
}

var _ Function = (*lambdaemu.Function)(nil)

// Server is a running local Lambda endpoint.
type Server struct {
	http *httptest.Server

	mu        sync.Mutex
	functions map[string]Function
	invoked   map[string]int
}

// New starts a server on a free loopback port serving functions by name.
// Close it when done.
func New(functions map[string]Function) *Server {
	s := &Server{functions: functions, invoked: map[string]int{}}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the endpoint's base URL.
func (s *Server) URL() string { return s.http.URL }

// Env is the environment under which a process's SDK reaches this server
// (AWS_ENDPOINT_URL_LAMBDA), to add to a localaws server's Env.
func (s *Server) Env() []string { return []string{"AWS_ENDPOINT_URL_LAMBDA=" + s.URL()} }

// Close shuts the server down.
func (s *Server) Close() { s.http.Close() }

// Invocations is how many times the function named name was invoked.
func (s *Server) Invocations(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invoked[name]
}

// nameOf reduces a FunctionName parameter (name, partial or full ARN, each
// with an optional qualifier) to the function's name.
func nameOf(param string) string {
	parts := strings.Split(param, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return parts[0] // NAME or NAME:QUALIFIER
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	path := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, suffix) {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation")
		return
	}
	if err := localaws.CheckSigV4(r); err != nil {
		writeError(w, err.Status, err.Type, err.Message)
		return
	}
	param, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, prefix), suffix))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameterValueException", "bad function name")
		return
	}
	name := nameOf(param)
	s.mu.Lock()
	fn, ok := s.functions[name]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+param)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
	if err != nil || len(payload) > 6<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	s.mu.Lock()
	s.invoked[name]++
	s.mu.Unlock()
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "", "RequestResponse":
	case "Event":
		// Lambda queues the event and answers at once; the emulator runs
		// one invocation at a time, so it runs in the background here.
		go func() { _, _ = fn.Invoke(context.Background(), payload) }()
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		writeError(w, http.StatusBadRequest, "InvalidParameterValueException", "unsupported invocation type")
		return
	}
	res, err := fn.Invoke(r.Context(), payload)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if res.Failed() {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}
