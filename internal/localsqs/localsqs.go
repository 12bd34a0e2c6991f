// Package localsqs is a local Amazon SQS endpoint for tests: it speaks SQS's
// JSON protocol (AWS JSON 1.0, X-Amz-Target: AmazonSQS.*), as aws-sdk-go-v2's
// sqs client does, for the operations the project uses: CreateQueue,
// GetQueueUrl, GetQueueAttributes, SendMessage, ReceiveMessage,
// ChangeMessageVisibility and DeleteMessage. Messages keep their message
// attributes and carry the MD5 digests the SDK checks; a received message is
// invisible for its visibility timeout and can only be deleted with the
// receipt handle of its latest receive, as in SQS.
//
// Standard-queue details it leaves out: it delivers in order and never
// twice at once, and ReceiveMessage returns at once instead of waiting
// (long polling), which only makes tests faster.
//
// Point a real SDK client at URL() with BaseEndpoint, or a process at it with
// AWS_ENDPOINT_URL_SQS; any static credentials do.
package localsqs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/activity-aware/ids/internal/localaws"
)

// Account is the account id in the queue URLs and ARNs the server makes.
const Account = "111122223333"

// DefaultVisibilityTimeout is SQS's default visibility timeout.
const DefaultVisibilityTimeout = 30 * time.Second

// Attribute is a message attribute as the JSON protocol carries it.
type Attribute struct {
	DataType    string
	StringValue *string `json:",omitempty"`
	BinaryValue []byte  `json:",omitempty"`
}

// StringAttribute is a String message attribute.
func StringAttribute(v string) Attribute { return Attribute{DataType: "String", StringValue: &v} }

type message struct {
	id         string
	body       string
	attrs      map[string]Attribute
	sent       time.Time
	visibleAt  time.Time
	receipt    string
	receives   int
	firstRecvd time.Time
}

type queue struct {
	name     string
	url      string
	messages []*message
}

// Server is a running local SQS endpoint.
type Server struct {
	*localaws.Server
	// Now is the server's clock (time.Now when nil); tests move it to let
	// visibility timeouts pass.
	Now func() time.Time

	mu      sync.Mutex
	queues  map[string]*queue // by URL
	deleted int
}

// New starts a server on a free loopback port with the named queues. Close
// it when done.
func New(names ...string) *Server {
	s := &Server{queues: map[string]*queue{}}
	s.Server = localaws.NewServer(localaws.Config{
		TargetPrefix:      "AmazonSQS",
		InternalErrorType: "InternalError",
		EndpointVariable:  "AWS_ENDPOINT_URL_SQS",
		ContentType:       localaws.ContentType10,
		Operations: map[string]localaws.Operation{
			"CreateQueue":             s.createQueue,
			"GetQueueUrl":             s.getQueueURL,
			"GetQueueAttributes":      s.getQueueAttributes,
			"SendMessage":             s.sendMessage,
			"ReceiveMessage":          s.receiveMessage,
			"ChangeMessageVisibility": s.changeMessageVisibility,
			"DeleteMessage":           s.deleteMessage,
		},
	})
	for _, n := range names {
		s.create(n)
	}
	return s
}

// QueueURL is the URL of the queue named name ("" when there is none).
func (s *Server) QueueURL(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		if q.name == name {
			return q.url
		}
	}
	return ""
}

// Message is a message as a test inspects it.
type Message struct {
	ID         string
	Body       string
	Attributes map[string]Attribute
	// Receives is how many times it was received.
	Receives int
}

// Messages returns every message in the queue at url, visible or not, in
// the order sent.
func (s *Server) Messages(url string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[url]
	if q == nil {
		return nil
	}
	out := make([]Message, 0, len(q.messages))
	for _, m := range q.messages {
		out = append(out, Message{ID: m.id, Body: m.body, Attributes: m.attrs, Receives: m.receives})
	}
	return out
}

// Deleted is how many messages DeleteMessage removed, over all queues.
func (s *Server) Deleted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) create(name string) *queue {
	url := s.URL() + "/" + Account + "/" + name
	if q, ok := s.queues[url]; ok {
		return q
	}
	q := &queue{name: name, url: url}
	s.queues[url] = q
	return q
}

var errNoQueue = &localaws.Error{Status: http.StatusBadRequest, Type: "com.amazonaws.sqs#QueueDoesNotExist", Message: "The specified queue does not exist."}

func invalid(format string, args ...any) *localaws.Error {
	return &localaws.Error{Status: http.StatusBadRequest, Type: "InvalidParameterValue", Message: fmt.Sprintf(format, args...)}
}

// queue returns the queue at url; the caller holds s.mu.
func (s *Server) queue(url string) (*queue, error) {
	q, ok := s.queues[url]
	if !ok {
		return nil, errNoQueue
	}
	return q, nil
}

func (s *Server) createQueue(_ context.Context, body []byte) (any, error) {
	var in struct{ QueueName string }
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.QueueName == "" || len(in.QueueName) > 80 {
		return nil, invalid("QueueName must be 1 to 80 characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]string{"QueueUrl": s.create(in.QueueName).url}, nil
}

func (s *Server) getQueueURL(_ context.Context, body []byte) (any, error) {
	var in struct{ QueueName string }
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		if q.name == in.QueueName {
			return map[string]string{"QueueUrl": q.url}, nil
		}
	}
	return nil, errNoQueue
}

func (s *Server) getQueueAttributes(_ context.Context, body []byte) (any, error) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := s.now()
	visible, inFlight := 0, 0
	for _, m := range q.messages {
		if m.visibleAt.After(now) {
			inFlight++
		} else {
			visible++
		}
	}
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"ApproximateNumberOfMessagesDelayed":    "0",
		"QueueArn":                              "arn:aws:sqs:" + localaws.Region + ":" + Account + ":" + q.name,
		"VisibilityTimeout":                     strconv.Itoa(int(DefaultVisibilityTimeout.Seconds())),
	}
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			out = all
			break
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

func (s *Server) sendMessage(_ context.Context, body []byte) (any, error) {
	var in struct {
		QueueUrl          string
		MessageBody       string
		MessageAttributes map[string]Attribute
	}
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.MessageBody == "" {
		return nil, &localaws.Error{Status: http.StatusBadRequest, Type: "MissingParameter", Message: "The request must contain the parameter MessageBody."}
	}
	if len(in.MessageBody) > 256*1024 {
		return nil, invalid("One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.")
	}
	id, err := s.Send(in.QueueUrl, in.MessageBody, in.MessageAttributes)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"MessageId": id, "MD5OfMessageBody": md5Hex(in.MessageBody)}
	if len(in.MessageAttributes) > 0 {
		out["MD5OfMessageAttributes"] = attributesMD5(in.MessageAttributes)
	}
	return out, nil
}

// Send puts a message on the queue at url as an AWS service (Lambda, an
// EventBridge rule) would, and returns its id.
func (s *Server) Send(url, body string, attrs map[string]Attribute) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(url)
	if err != nil {
		return "", err
	}
	m := &message{id: localaws.NewID(), body: body, attrs: attrs, sent: s.now()}
	q.messages = append(q.messages, m)
	return m.id, nil
}

type receivedMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string    `json:",omitempty"`
	MD5OfMessageAttributes string               `json:",omitempty"`
	MessageAttributes      map[string]Attribute `json:",omitempty"`
}

func (s *Server) receiveMessage(_ context.Context, body []byte) (any, error) {
	var in struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		MessageAttributeNames       []string
		AttributeNames              []string
		MessageSystemAttributeNames []string
	}
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > 10 {
		return nil, invalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	}
	vt := DefaultVisibilityTimeout
	if in.VisibilityTimeout != nil {
		if *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
			return nil, invalid("Value %d for parameter VisibilityTimeout is invalid.", *in.VisibilityTimeout)
		}
		vt = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := s.now()
	wantSys := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	out := []receivedMessage{}
	for _, m := range q.messages {
		if len(out) == max {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.receives++
		if m.firstRecvd.IsZero() {
			m.firstRecvd = now
		}
		m.visibleAt = now.Add(vt)
		m.receipt = localaws.NewID() + "#" + m.id
		r := receivedMessage{MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: md5Hex(m.body), Body: m.body}
		if sys := systemAttributes(m, wantSys); len(sys) > 0 {
			r.Attributes = sys
		}
		if attrs := selectAttributes(m.attrs, in.MessageAttributeNames); len(attrs) > 0 {
			r.MessageAttributes = attrs
			r.MD5OfMessageAttributes = attributesMD5(attrs)
		}
		out = append(out, r)
	}
	return map[string]any{"Messages": out}, nil
}

func systemAttributes(m *message, names []string) map[string]string {
	all := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstRecvd.UnixMilli(), 10),
	}
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return out
}

// selectAttributes are the message attributes names asks for ("All", a
// name, or a prefix ending in ".*").
func selectAttributes(attrs map[string]Attribute, names []string) map[string]Attribute {
	out := map[string]Attribute{}
	for k, v := range attrs {
		for _, n := range names {
			if n == "All" || n == ".*" || n == k || (strings.HasSuffix(n, ".*") && strings.HasPrefix(k, strings.TrimSuffix(n, "*"))) {
				out[k] = v
			}
		}
	}
	return out
}

// received returns the queue at url and the index of its message whose
// latest receipt handle is receipt; the caller holds s.mu.
func (s *Server) received(url, receipt string) (*queue, int, error) {
	q, err := s.queue(url)
	if err != nil {
		return nil, 0, err
	}
	for i, m := range q.messages {
		if m.receipt != "" && m.receipt == receipt {
			return q, i, nil
		}
	}
	return nil, 0, &localaws.Error{Status: http.StatusBadRequest, Type: "ReceiptHandleIsInvalid", Message: "The input receipt handle is invalid."}
}

func (s *Server) changeMessageVisibility(_ context.Context, body []byte) (any, error) {
	var in struct {
		QueueUrl          string
		ReceiptHandle     string
		VisibilityTimeout int
	}
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.VisibilityTimeout < 0 || in.VisibilityTimeout > 43200 {
		return nil, invalid("Value %d for parameter VisibilityTimeout is invalid.", in.VisibilityTimeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, i, err := s.received(in.QueueUrl, in.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	q.messages[i].visibleAt = s.now().Add(time.Duration(in.VisibilityTimeout) * time.Second)
	return struct{}{}, nil
}

func (s *Server) deleteMessage(_ context.Context, body []byte) (any, error) {
	var in struct {
		QueueUrl      string
		ReceiptHandle string
	}
	if err := localaws.Decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, i, err := s.received(in.QueueUrl, in.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	q.messages = slices.Delete(q.messages, i, i+1)
	s.deleted++
	return struct{}{}, nil
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// attributesMD5 is SQS's digest of message attributes: for each attribute,
// by name, the length-prefixed name, data type, a transport byte (1 for
// String and Number, 2 for Binary) and the length-prefixed value.
func attributesMD5(attrs map[string]Attribute) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	put := func(p []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(p)))
		b.Write(p)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			b.WriteByte(2)
			put(a.BinaryValue)
		} else {
			b.WriteByte(1)
			v := ""
			if a.StringValue != nil {
				v = *a.StringValue
			}
			put([]byte(v))
		}
	}
	sum := md5.Sum(b.Bytes())
	return hex.EncodeToString(sum[:])
}
