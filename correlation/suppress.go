package correlation

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
)

// Suppression keeps matching activities out of a channel until it expires:
// they are still published and archived, and each destination counts them
// in a digest line instead of posting them. Every criterion set must match.
// A suppression never applies to a critical activity unless it names one of
// the activity's detections.
type Suppression struct {
	ID string `json:"id"`
	// Principal is an actor ARN.
	Principal string `json:"principal,omitempty"`
	// Detection is a detection id the activity carries.
	Detection string `json:"detection,omitempty"`
	// SourceIP is a CIDR prefix (or one address) the actor's source IP is in.
	SourceIP string `json:"sourceIp,omitempty"`
	// Account is an AWS account id.
	Account string    `json:"account,omitempty"`
	Until   time.Time `json:"until"`
	Reason  string    `json:"reason"`
	Created time.Time `json:"created"`
}

// NewSuppressionID returns a random id, e.g. "sup-3f9a0c1e2b4d".
func NewSuppressionID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sup-" + hex.EncodeToString(b[:])
}

// Validate reports a suppression that names no criterion, an invalid CIDR or
// account, or no expiry or reason.
func (s *Suppression) Validate() error {
	switch {
	case s.ID == "":
		return fmt.Errorf("correlation: suppression has no id")
	case s.Principal == "" && s.Detection == "" && s.SourceIP == "":
		return fmt.Errorf("correlation: a suppression names a principal, a detection or a source IP")
	case s.Until.IsZero():
		return fmt.Errorf("correlation: a suppression needs an expiry (until)")
	case strings.TrimSpace(s.Reason) == "":
		return fmt.Errorf("correlation: a suppression needs a reason")
	}
	if s.SourceIP != "" {
		if _, err := parsePrefix(s.SourceIP); err != nil {
			return err
		}
	}
	if s.Account != "" && (len(s.Account) != 12 || strings.Trim(s.Account, "0123456789") != "") {
		return fmt.Errorf("correlation: account %q is not a 12-digit AWS account id", s.Account)
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("correlation: source IP %q is not an address or CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Active reports whether the suppression applies at now.
func (s *Suppression) Active(now time.Time) bool { return now.Before(s.Until) }

// Matches reports whether the suppression applies to a at now.
func (s *Suppression) Matches(a *activity.Activity, now time.Time) bool {
	if !s.Active(now) {
		return false
	}
	hasDetection := s.Detection != "" && slices.ContainsFunc(a.Detections, func(d activity.Detection) bool { return d.ID == s.Detection })
	if s.Detection != "" && !hasDetection {
		return false
	}
	if a.Severity == activity.Critical && !hasDetection {
		return false
	}
	if s.Principal != "" && (a.Actor == nil || a.Actor.ARN != s.Principal) {
		return false
	}
	if s.Account != "" && a.Account.ID != s.Account {
		return false
	}
	if s.SourceIP != "" {
		p, err := parsePrefix(s.SourceIP)
		if err != nil || a.Actor == nil {
			return false
		}
		ip, err := netip.ParseAddr(a.Actor.SourceIP)
		if err != nil || !p.Contains(ip.Unmap()) {
			return false
		}
	}
	return true
}

// Criteria describes what the suppression matches, for a list or a digest.
func (s *Suppression) Criteria() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	add("principal", s.Principal)
	add("detection", s.Detection)
	add("source IP", s.SourceIP)
	add("account", s.Account)
	return strings.Join(parts, ", ")
}
