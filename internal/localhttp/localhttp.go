// Package localhttp is what the local receivers of the destination tests
// (localwebhook, localpagerduty, localteams) share: a queue of injected
// faults served in order (an error status with its body and Retry-After, or
// a request that never gets an answer), a request count, and a
// per-second rate limit that answers 429 as the real services do.
package localhttp

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fault is an answer given instead of handling a request.
type Fault struct {
	// Status, Body and ContentType are what is answered.
	Status      int
	Body        string
	ContentType string
	// RetryAfter, when not empty, is sent as the Retry-After header.
	RetryAfter string
	// Hang makes the server never answer: the request is held until the
	// client gives up or the server closes.
	Hang bool
}

// Faults serves queued faults and counts requests. The zero value is ready;
// it is safe for concurrent use.
type Faults struct {
	mu       sync.Mutex
	queue    []queued
	requests int
	done     chan struct{}
	once     sync.Once
}

type queued struct {
	fault Fault
	left  int
}

// Fail queues f for the next times requests. Calls queue in order.
func (q *Faults) Fail(f Fault, times int) {
	if times <= 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = append(q.queue, queued{fault: f, left: times})
}

// Requests is the number of requests seen, answered with a fault or not.
func (q *Faults) Requests() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.requests
}

func (q *Faults) closed() chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done == nil {
		q.done = make(chan struct{})
	}
	return q.done
}

// Close releases hanging requests.
func (q *Faults) Close() {
	done := q.closed()
	q.once.Do(func() { close(done) })
}

// Intercept counts the request and, when a fault is queued, answers with it
// and reports true: the caller then stops.
func (q *Faults) Intercept(w http.ResponseWriter, r *http.Request) bool {
	q.mu.Lock()
	q.requests++
	if len(q.queue) == 0 {
		q.mu.Unlock()
		return false
	}
	head := &q.queue[0]
	f := head.fault
	head.left--
	if head.left == 0 {
		q.queue = q.queue[1:]
	}
	q.mu.Unlock()
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-q.closed():
		}
		return true
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	Answer(w, f.Status, f.ContentType, f.Body)
	return true
}

// Answer writes status and body with contentType (plain text when empty).
func Answer(w http.ResponseWriter, status int, contentType, body string) {
	if contentType == "" {
		contentType = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// RateLimit allows at most PerSecond requests in each second (0: no limit).
// It is safe for concurrent use.
type RateLimit struct {
	PerSecond int

	mu     sync.Mutex
	window time.Time
	count  int
}

// Allow reports whether a request may pass now, and if not, the Retry-After
// to answer (the seconds until the window ends, at least 1).
func (l *RateLimit) Allow(now time.Time) (bool, string) {
	if l == nil || l.PerSecond <= 0 {
		return true, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := now.Truncate(time.Second); !w.Equal(l.window) {
		l.window, l.count = w, 0
	}
	l.count++
	if l.count <= l.PerSecond {
		return true, ""
	}
	return false, strconv.Itoa(1)
}

// ReadBody reads at most limit bytes of r's body and reports whether it was
// longer (the rest is not read).
func ReadBody(r *http.Request, limit int64) ([]byte, bool, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) > limit {
		return nil, true, nil
	}
	return body, false, nil
}
