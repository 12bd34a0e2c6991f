// Package localsns is a local Amazon SNS endpoint for tests, on the shared
// plumbing of internal/localaws in the AWS Query protocol that
// aws-sdk-go-v2's SNS client speaks (a form-encoded POST with
// Action=Publish&Version=2010-03-31, answered with XML). Publish checks what
// SNS checks: the topic exists (NotFound, 404), Message is present and the
// message is at most 256 KB (InvalidParameter), and a Subject is ASCII
// printable text that starts with a letter, digit or punctuation mark, has
// no line breaks or control characters and fewer than 100 characters
// (InvalidParameter, 400, "Invalid parameter: Subject"). Faults (throttling,
// 500s, hangs, any SNS error code) are injected through Server.Fail and its
// siblings.
package localsns

import (
	"context"
	"encoding/xml"
	"net/http"
	"sync"

	"github.com/activity-aware/ids/internal/localaws"
)

// Limits of Publish, as the SNS API reference documents them.
const (
	// MaxSubject: the API reference says a subject must be "less than 100
	// characters long"; the endpoint enforces that stricter reading.
	MaxSubject = 99
	MaxMessage = 256 * 1024
	// Version is the SNS API version the form carries.
	Version = "2010-03-31"
)

// Errors SNS answers Publish with.
var (
	ErrAuthorization = &localaws.Error{Status: http.StatusForbidden, Type: "AuthorizationError", Message: "User is not authorized to perform: SNS:Publish"}
	ErrKMSDisabled   = &localaws.Error{Status: http.StatusBadRequest, Type: "KMSDisabled", Message: "The request was rejected because the specified customer master key (CMK) isn't enabled."}
)

// Message is a published message as received.
type Message struct {
	TopicARN  string
	Subject   string
	Message   string
	MessageID string
}

// Server is a running local SNS endpoint. It embeds the localaws server
// (URL, AWSConfig, Env, Setenv, Fail, Throttle, FailInternal, Hang, counts).
type Server struct {
	*localaws.Server

	mu        sync.Mutex
	topics    map[string]bool
	published []Message
}

// New starts a server on a free loopback port that knows the given topics.
func New(topicARNs ...string) *Server {
	s := &Server{topics: map[string]bool{}}
	for _, t := range topicARNs {
		s.topics[t] = true
	}
	s.Server = localaws.NewServer(localaws.Config{
		Query:             true,
		TargetPrefix:      Version,
		InternalErrorType: "InternalError",
		EndpointVariable:  "AWS_ENDPOINT_URL_SNS",
		Operations:        map[string]localaws.Operation{"Publish": s.publish},
	})
	return s
}

// Published returns the messages accepted so far, in order.
func (s *Server) Published() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.published...)
}

func invalid(field, why string) *localaws.Error {
	return &localaws.Error{Status: http.StatusBadRequest, Type: "InvalidParameter", Message: "Invalid parameter: " + field + " Reason: " + why}
}

// CheckSubject reports why SNS would refuse subject ("" when it accepts it).
func CheckSubject(subject string) string {
	if len(subject) > MaxSubject {
		return "Subject must be less than 100 characters long"
	}
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		if c < 0x20 || c > 0x7e {
			return "Subject must be ASCII text without line breaks or control characters"
		}
	}
	if subject == "" || subject[0] == ' ' {
		return "Subject must begin with a letter, number or punctuation mark"
	}
	return ""
}

type publishResult struct {
	XMLName   xml.Name `xml:"MessageId"`
	MessageID string   `xml:",chardata"`
}

func (s *Server) publish(_ context.Context, body []byte) (any, error) {
	form, err := localaws.DecodeForm(body)
	if err != nil {
		return nil, err
	}
	topic := form.Get("TopicArn")
	if topic == "" {
		if form.Get("TargetArn") != "" || form.Get("PhoneNumber") != "" {
			return nil, invalid("TopicArn", "only topics are served by the local endpoint")
		}
		return nil, invalid("TopicArn or TargetArn", "One of TopicArn, TargetArn or PhoneNumber must be specified")
	}
	msg, ok := form["Message"]
	if !ok || msg[0] == "" {
		return nil, &localaws.Error{Status: http.StatusBadRequest, Type: "ValidationError", Message: "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null"}
	}
	if len(msg[0]) > MaxMessage {
		return nil, invalid("Message", "Message too long")
	}
	subject, hasSubject := form["Subject"]
	if hasSubject {
		if why := CheckSubject(subject[0]); why != "" {
			return nil, invalid("Subject", why)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.topics[topic] {
		return nil, &localaws.Error{Status: http.StatusNotFound, Type: "NotFound", Message: "Topic does not exist"}
	}
	m := Message{TopicARN: topic, Message: msg[0], MessageID: localaws.NewID()}
	if hasSubject {
		m.Subject = subject[0]
	}
	s.published = append(s.published, m)
	return publishResult{MessageID: m.MessageID}, nil
}
