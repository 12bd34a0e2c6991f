package email

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/internal/localaws"
	"github.com/activity-aware/ids/internal/localsns"
	"github.com/activity-aware/ids/internal/testactivities"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata/")

const topic = "arn:aws:sns:us-east-1:123456789012:aaids-email"

// checkMail asserts what every mail must satisfy: SNS (as localsns checks
// it) accepts the subject, the message fits, and the body holds no control
// or invisible character and no live URL except AWS console links, each on
// a line of its own.
func checkMail(t testing.TB, m Mail) {
	t.Helper()
	if why := localsns.CheckSubject(m.Subject); why != "" {
		t.Fatalf("SNS would refuse subject %q: %s", m.Subject, why)
	}
	if len(m.Text) > MaxMessage {
		t.Fatalf("message of %d bytes", len(m.Text))
	}
	for _, l := range strings.Split(m.Text, "\n") {
		for _, r := range l {
			if r < 0x20 && r != '\t' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || eventtext.Invisible(r) {
				t.Errorf("rune %U in line %q", r, l)
			}
		}
		if i := strings.Index(l, "://"); i >= 0 {
			if u := strings.TrimPrefix(l, "  "); !strings.HasPrefix(l, "  https://") || !eventtext.ConsoleURL(u) {
				t.Errorf("live link in line %q", l)
			}
		}
		if strings.Contains(strings.ToLower(l), "www.") {
			t.Errorf("live www. in line %q", l)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	for name, a := range testactivities.Cases(t) {
		t.Run(name, func(t *testing.T) {
			m := Render(a)
			checkMail(t, m)
			testactivities.Golden(t, filepath.Join("testdata", name+".golden.txt"), []byte("Subject: "+m.Subject+"\n\n"+m.Text))
		})
	}
}

// TestRenderDigestGolden: the digest mails of a burst, of hostile
// activities and of a suppression, checked as every mail is.
func TestRenderDigestGolden(t *testing.T) {
	for name, d := range testactivities.Digests(t) {
		t.Run(name, func(t *testing.T) {
			m := RenderDigest(d)
			checkMail(t, m)
			testactivities.Golden(t, filepath.Join("testdata", "digest-"+name+".golden.txt"), []byte("Subject: "+m.Subject+"\n\n"+m.Text))
		})
	}
}

func TestSubject(t *testing.T) {
	for in, want := range map[string]string{
		"[HIGH] Accès refusé à Ærøskøbing — “quoted”…": `[HIGH] Acces refuse a AEroskobing - "quoted"...`,
		"line\nbreak\r\tand\x00nul":                    "line break and?nul",
		"   ":                                          "Activity",
		"日本語":                                          "Activity",
		" leading space":                               "leading space",
		"see https://evil.example/x":                   "see https[:]//evil.example/x",
		"bidi \u202e txt":                              "bidi [U+202E] txt",
		strings.Repeat("é", 150):                       strings.Repeat("e", 96) + "...",
	} {
		if got := Subject(in); got != want {
			t.Errorf("Subject(%q) = %q, want %q", in, got, want)
		}
		if why := localsns.CheckSubject(Subject(in)); why != "" {
			t.Errorf("Subject(%q): %s", in, why)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	for v, ok := range map[string]bool{
		topic: true, "": false, "arn:aws:sqs:us-east-1:123456789012:q": false,
		topic + ":sub-id": false, "not an arn": false,
	} {
		c, err := ConfigFromEnv(func(k string) string { return map[string]string{EnvTopicARN: v}[k] })
		if (err == nil) != ok || (ok && c.Environment()[EnvTopicARN] != v) {
			t.Errorf("ConfigFromEnv(%q) = %v, %v", v, c, err)
		}
	}
}

func client(s *localsns.Server) *sns.Client {
	return sns.NewFromConfig(s.AWSConfig(), func(o *sns.Options) {
		o.HTTPClient = &http.Client{Timeout: 2 * time.Second}
	})
}

// TestSendThroughLocalSNS publishes through the real SDK client to the local
// endpoint: accepted mail, throttling and 500s retried by the SDK, SNS's
// permanent errors returned as permanent.
func TestSendThroughLocalSNS(t *testing.T) {
	m := Render(testactivities.Samples(t)["iam-getpolicy-denied"])
	tests := []struct {
		name      string
		fault     func(*localsns.Server)
		topic     string
		mail      Mail
		requests  int
		ok        bool
		permanent bool
		code      string
	}{
		{"accepted", func(*localsns.Server) {}, topic, m, 1, true, false, ""},
		{"throttled then accepted", func(s *localsns.Server) {
			s.Fail(1, &localaws.Error{Status: 400, Type: "Throttling", Message: "Rate exceeded"})
		}, topic, m, 2, true, false, ""},
		{"500 twice then accepted", func(s *localsns.Server) { s.FailInternal(2) }, topic, m, 3, true, false, ""},
		{"outage gives up, retryable", func(s *localsns.Server) { s.FailInternal(100) }, topic, m, 3, false, false, "InternalError"},
		{"topic not found", func(*localsns.Server) {}, topic + "-gone", m, 1, false, true, "NotFound"},
		{"not authorized", func(s *localsns.Server) { s.Fail(1, localsns.ErrAuthorization) }, topic, m, 1, false, true, "AuthorizationError"},
		{"KMS key disabled", func(s *localsns.Server) { s.Fail(1, localsns.ErrKMSDisabled) }, topic, m, 1, false, true, "KMSDisabled"},
		{"subject SNS refuses", func(*localsns.Server) {}, topic, Mail{Subject: "two\nlines", Text: "x"}, 1, false, true, "InvalidParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localsns.New(topic)
			defer s.Close()
			tt.fault(s)
			d := &Destination{SNS: client(s), TopicARN: tt.topic}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			res, err := d.Send(ctx, tt.mail)
			if (err == nil) != tt.ok || res.Attempts != tt.requests || s.Requests() != tt.requests {
				t.Fatalf("Send = %+v, %v after %d requests", res, err, s.Requests())
			}
			if tt.ok {
				p := s.Published()
				if len(p) != 1 || p[0].Subject != m.Subject || p[0].Message != m.Text || p[0].TopicARN != topic {
					t.Fatalf("published %+v", p)
				}
				return
			}
			var de *delivery.Error
			if !errors.As(err, &de) || de.Permanent != tt.permanent || de.Code != tt.code || errors.Is(err, delivery.ErrPermanent) != tt.permanent {
				t.Fatalf("error %#v", err)
			}
		})
	}
}

// TestLocalSNSChecksWhatSNSChecks sends what SNS refuses through the SDK.
func TestLocalSNSChecksWhatSNSChecks(t *testing.T) {
	s := localsns.New(topic)
	defer s.Close()
	c := client(s)
	for name, in := range map[string]*sns.PublishInput{
		"subject of 100":     {TopicArn: aws.String(topic), Message: aws.String("x"), Subject: aws.String(strings.Repeat("a", 100))},
		"non-ASCII subject":  {TopicArn: aws.String(topic), Message: aws.String("x"), Subject: aws.String("Accès")},
		"leading space":      {TopicArn: aws.String(topic), Message: aws.String("x"), Subject: aws.String(" x")},
		"message over 256KB": {TopicArn: aws.String(topic), Message: aws.String(strings.Repeat("a", MaxMessage+1))},
	} {
		_, err := c.Publish(t.Context(), in)
		var de *delivery.Error
		if !errors.As(classify(err, 1), &de) || de.Code != "InvalidParameter" || !de.Permanent {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("x"), Subject: aws.String(strings.Repeat("a", 99))}); err != nil {
		t.Errorf("subject of 99: %v", err)
	}
	if n := len(s.Published()); n != 1 {
		t.Errorf("%d published", n)
	}
}

// TestHandle runs the function's handler against the local endpoint: a
// sample is one mail, and a permanent error fails the invocation.
func TestHandle(t *testing.T) {
	s := localsns.New(topic)
	defer s.Close()
	h := &dispatch.Handler{Name: "email", Trust: testactivities.Trust, Deliverer: &Destination{SNS: client(s), TopicARN: topic}}
	a := testactivities.Samples(t)["iam-getpolicy-denied"]
	if err := h.Handle(t.Context(), testactivities.Event(t, a)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if p := s.Published(); len(p) != 1 || p[0].Subject != Render(a).Subject {
		t.Fatalf("published %+v", p)
	}
	s.Fail(1, localsns.ErrAuthorization)
	if err := h.Handle(t.Context(), testactivities.Event(t, a)); !errors.Is(err, delivery.ErrPermanent) {
		t.Fatalf("Handle after AuthorizationError: %v", err)
	}
}
