// Package localeventbridge is a local Amazon EventBridge endpoint for tests:
// it speaks EventBridge's JSON 1.1 protocol for AWSEvents.PutEvents, checks
// each request as EventBridge would (signature, bus name, 1 to 10 entries, the
// request size by EventBridge's entry-size formula, Source, DetailType and a
// JSON-object Detail), records what it accepts, and fails on demand: whole
// requests (throttling, 500s, hangs, from the embedded localaws.Server) or
// chosen entries (a partial failure with a given error code).
//
// Point a real SDK client at URL() with BaseEndpoint, or a process at it with
// AWS_ENDPOINT_URL_EVENTBRIDGE; any static credentials do.
package localeventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/activity-aware/ids/internal/localaws"
)

// DefaultMaxRequestBytes is the PutEvents request size limit the API reference
// states: 256 KB, counted by the entry-size formula.
const DefaultMaxRequestBytes = 256 * 1024

// MaxEntries is the most entries one PutEvents request may carry.
const MaxEntries = 10

// entryTimeBytes is what EventBridge counts for an entry's Time field.
const entryTimeBytes = 14

// Entry is one PutEvents request entry as received, with the EventId the
// server gave it when it accepted it.
type Entry struct {
	EventID      string
	EventBusName string
	Source       string
	DetailType   string
	Detail       string
	Resources    []string
	Time         *time.Time
}

// Size is the entry's size by EventBridge's formula: 14 bytes for Time plus
// the UTF-8 bytes of Source, DetailType, Detail and each Resource.
func (e *Entry) Size() int {
	n := entryTimeBytes + len(e.Source) + len(e.DetailType) + len(e.Detail)
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// Options configure a Server.
type Options struct {
	// BusName is the only event bus that exists (by name, or an ARN ending in
	// "event-bus/<name>"). Required.
	BusName string
	// MaxRequestBytes is the request size limit; DefaultMaxRequestBytes when 0.
	MaxRequestBytes int
	// ValidateDetail, when set, checks every Detail; an entry it rejects fails
	// with InvalidArgument and is kept in Rejected. The end-to-end suite passes
	// a wrapper of activity.Parse.
	ValidateDetail func(detail []byte) error
}

// Rejection is an entry the server refused, with the error code and message it
// answered.
type Rejection struct {
	Entry   Entry
	Code    string
	Message string
}

// EntryFault makes matching entries fail with Code for their next Times
// attempts (an attempt being one appearance of a matching entry in a request).
type EntryFault struct {
	// Match selects entries; index is the entry's position in its request.
	Match func(index int, e *Entry) bool
	// Code and Message are the per-entry ErrorCode and ErrorMessage.
	Code    string
	Message string
	// Times is how many matching entry attempts fail before the fault is used
	// up.
	Times int
}

// Server is a running local EventBridge endpoint.
type Server struct {
	*localaws.Server
	opts Options

	mu          sync.Mutex
	entryFaults []*EntryFault
	accepted    []Entry
	rejected    []Rejection
	attempts    map[string]int
	putRequests int
}

// New starts a server on a free loopback port. Close it when done.
func New(opts Options) *Server {
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = DefaultMaxRequestBytes
	}
	s := &Server{opts: opts, attempts: map[string]int{}}
	s.Server = localaws.NewServer(localaws.Config{
		TargetPrefix:      "AWSEvents",
		InternalErrorType: "InternalException",
		EndpointVariable:  "AWS_ENDPOINT_URL_EVENTBRIDGE",
		Operations:        map[string]localaws.Operation{"PutEvents": s.putEvents},
	})
	return s
}

// FailEntries adds a per-entry fault. Faults are consulted in the order they
// were added; the first that matches an entry decides.
func (s *Server) FailEntries(f EntryFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fc := f
	s.entryFaults = append(s.entryFaults, &fc)
}

// FailIndexes fails the entries at the given request positions with code, for
// the next times attempts of each position.
func (s *Server) FailIndexes(code string, times int, indexes ...int) {
	for _, want := range indexes {
		s.FailEntries(EntryFault{
			Match: func(i int, _ *Entry) bool { return i == want },
			Code:  code, Message: "failure injected by the local endpoint", Times: times,
		})
	}
}

// FailDetailContaining fails every entry whose Detail contains substr (an
// activity id, say) with code, for its next times attempts.
func (s *Server) FailDetailContaining(code string, times int, substr string) {
	s.FailEntries(EntryFault{
		Match: func(_ int, e *Entry) bool { return strings.Contains(e.Detail, substr) },
		Code:  code, Message: "failure injected by the local endpoint", Times: times,
	})
}

// Accepted returns a copy of the entries accepted so far, in arrival order.
func (s *Server) Accepted() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Entry(nil), s.accepted...)
}

// Rejected returns a copy of the entries refused so far (by validation or by
// an injected entry fault).
func (s *Server) Rejected() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejected...)
}

// PutEventsRequests is the number of PutEvents requests that reached the
// operation (not answered by a request-level fault or a protocol error).
func (s *Server) PutEventsRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putRequests
}

// Attempts returns how many times an entry with this Detail was received by
// the operation, accepted or not.
func (s *Server) Attempts(detail string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[detail]
}

type putEventsInput struct {
	Entries []struct {
		EventBusName string
		Source       *string
		DetailType   *string
		Detail       *string
		Resources    []string
		Time         *float64
	}
	EndpointId string
}

type resultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putEventsOutput struct {
	FailedEntryCount int
	Entries          []resultEntry
}

func validation(msg string) *localaws.Error {
	return &localaws.Error{Status: http.StatusBadRequest, Type: "ValidationException", Message: msg}
}

func (s *Server) putEvents(_ context.Context, body []byte) (any, error) {
	var in putEventsInput
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	if n := len(in.Entries); n < 1 || n > MaxEntries {
		return nil, validation(fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", MaxEntries, n))
	}
	entries := make([]Entry, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		entries[i] = Entry{
			EventBusName: e.EventBusName, Source: deref(e.Source), DetailType: deref(e.DetailType),
			Detail: deref(e.Detail), Resources: e.Resources,
		}
		if e.Time != nil {
			t := time.Unix(0, int64(*e.Time*1e9)).UTC()
			entries[i].Time = &t
		}
		total += entries[i].Size()
	}
	if total > s.opts.MaxRequestBytes {
		return nil, validation(fmt.Sprintf("Total size of the entries in the request is over the limit (%d > %d bytes).", total, s.opts.MaxRequestBytes))
	}
	for _, e := range entries {
		if !s.knownBus(e.EventBusName) {
			return nil, &localaws.Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Message: fmt.Sprintf("Event bus %s does not exist.", e.EventBusName)}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.putRequests++
	out := putEventsOutput{Entries: make([]resultEntry, len(entries))}
	for i := range entries {
		e := &entries[i]
		s.attempts[e.Detail]++
		code, msg := s.check(i, e)
		if code != "" {
			out.FailedEntryCount++
			out.Entries[i] = resultEntry{ErrorCode: code, ErrorMessage: msg}
			s.rejected = append(s.rejected, Rejection{Entry: *e, Code: code, Message: msg})
			continue
		}
		e.EventID = localaws.NewID()
		s.accepted = append(s.accepted, *e)
		out.Entries[i] = resultEntry{EventID: e.EventID}
	}
	return out, nil
}

// check returns the error code and message for an entry that fails, "" for
// one that is accepted. s.mu is held.
func (s *Server) check(i int, e *Entry) (code, msg string) {
	switch {
	case e.Source == "":
		return "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case e.DetailType == "":
		return "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case e.Detail == "":
		return "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(e.Detail), &obj); err != nil || obj == nil {
		return "MalformedDetail", "Detail is malformed."
	}
	if s.opts.ValidateDetail != nil {
		if err := s.opts.ValidateDetail([]byte(e.Detail)); err != nil {
			return "InvalidArgument", "Parameter Detail is not valid. Reason: " + err.Error()
		}
	}
	for _, f := range s.entryFaults {
		if f.Times > 0 && f.Match(i, e) {
			f.Times--
			return f.Code, f.Message
		}
	}
	return "", ""
}

func (s *Server) knownBus(name string) bool {
	if name == "" {
		name = "default"
	}
	return name == s.opts.BusName || (strings.HasPrefix(name, "arn:") && strings.HasSuffix(name, ":event-bus/"+s.opts.BusName))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
