package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxErrorBody bounds what is read of an error answer.
const MaxErrorBody = 512

// NoRedirects returns a copy of hc (nil: a new one) that never follows a
// redirect and has DefaultTimeout when it set none: a target that redirects
// is an error, not a reason to send the message elsewhere.
func NoRedirects(hc *http.Client) *http.Client {
	c := &http.Client{}
	if hc != nil {
		copied := *hc
		c = &copied
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// Request is one POST.
type Request struct {
	URL string
	// Header is called for every attempt, so values such as a signature's
	// timestamp are those of the attempt.
	Header func() http.Header
	Body   []byte
	// Code reads the receiver's error code from a non-2xx answer's body (at
	// most MaxErrorBody bytes); nil: no code.
	Code func(body []byte) string
}

// Post makes one attempt of req with hc (which NoRedirects should have
// made). A 2xx answer is success; any other answer is returned with its
// status, Retry-After and code and a non-nil error; a transport error has no
// status. The caller scrubs the URL from a transport error (ScrubURL).
func Post(ctx context.Context, hc *http.Client, req Request) (Answer, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		// The error quotes the URL, so it is not wrapped.
		return Answer{}, errors.New("build request: invalid URL")
	}
	if req.Header != nil {
		for k, vs := range req.Header() {
			hr.Header[k] = vs
		}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return Answer{Status: resp.StatusCode}, nil
	}
	ans := Answer{Status: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"))}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	if req.Code != nil {
		ans.Code = req.Code(body)
	}
	return ans, fmt.Errorf("answered %d", resp.StatusCode)
}

// scrubbedError is a transport error with the URL removed from its text.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// ScrubURL returns a function that removes target from a transport error: a
// *url.Error (whose text quotes the URL) is replaced by its cause, which
// names at most the host and port, and any remaining occurrence of the URL
// or its path is redacted.
func ScrubURL(target string) func(error) error {
	return func(err error) error {
		var ue *url.Error
		if errors.As(err, &ue) {
			return &scrubbedError{msg: "post: " + redact(ue.Err.Error(), target), err: ue.Err}
		}
		return &scrubbedError{msg: redact(err.Error(), target)}
	}
}

func redact(s, target string) string {
	s = strings.ReplaceAll(s, target, "[URL]")
	if u, err := url.Parse(target); err == nil {
		if len(u.EscapedPath()) > 1 {
			s = strings.ReplaceAll(s, u.EscapedPath(), "[URL path]")
		}
		if u.RawQuery != "" {
			s = strings.ReplaceAll(s, u.RawQuery, "[URL query]")
		}
	}
	return s
}

// ErrInvalidURL reports a target URL that must not be used. Its messages
// name the problem, never the URL.
var ErrInvalidURL = errors.New("delivery: invalid target URL")

// CheckURL accepts an https URL without credentials on a host hosts allows
// (nil: any host), on the default port unless the host is loopback, or, for
// local testing only, http or https on a loopback host. The error wraps
// ErrInvalidURL and names the problem, never the URL.
func CheckURL(raw string, hosts func(host string) bool) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidURL)
	}
	if raw != strings.TrimSpace(raw) {
		return nil, fmt.Errorf("%w: leading or trailing white space", ErrInvalidURL)
	}
	// url.Parse's error quotes the URL, so it is not wrapped.
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a valid URL", ErrInvalidURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: must not carry user credentials", ErrInvalidURL)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return nil, fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	if IsLoopback(host) {
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("%w: scheme %q, want https (or http on a loopback host)", ErrInvalidURL, u.Scheme)
		}
		return u, nil
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%w: scheme %q, want https (http is allowed only on a loopback host)", ErrInvalidURL, u.Scheme)
	}
	if hosts != nil && !hosts(host) {
		return nil, fmt.Errorf("%w: host is not one this destination posts to", ErrInvalidURL)
	}
	if p := u.Port(); p != "" && p != "443" {
		return nil, fmt.Errorf("%w: unexpected port %s", ErrInvalidURL, p)
	}
	return u, nil
}

// IsLoopback reports whether host (lower case, without brackets or port) is
// localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
