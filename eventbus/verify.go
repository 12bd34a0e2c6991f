package eventbus

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
)

// ErrUnverified reports an activity event whose envelope a destination does
// not trust: it was published by an account that is not a trusted producer,
// or it speaks for an account its publisher may not speak for. Such an event
// must never render as a normal alert.
var ErrUnverified = errors.New("eventbus: unverified activity")

// EnvProducerAccounts is the environment variable of a destination function
// that lists its trusted producers (ParseTrust reads it). Unset: the
// function's own account.
const EnvProducerAccounts = "PRODUCER_ACCOUNTS"

// Organization, in a producer list, admits every account the bus policy
// admits (the accounts of the bus's organization), each for activities about
// itself only.
const Organization = "organization"

// Trust is the set of producers a destination believes. The zero value trusts
// no one.
type Trust struct {
	// Accounts may publish activities about any account: the accounts that
	// run a source (an organization trail's account reports for every member).
	Accounts []string
	// Organization admits any other publishing account, for activities whose
	// own account is the publisher's. The bus policy (which only the
	// organization's principals pass) is what makes such a publisher a member.
	Organization bool
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// ParseTrust reads a producer list: comma-separated 12-digit account ids
// and/or the word "organization". Blank entries are ignored.
func ParseTrust(list string) (Trust, error) {
	var t Trust
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case strings.EqualFold(f, Organization):
			t.Organization = true
		case accountID.MatchString(f):
			if !slices.Contains(t.Accounts, f) {
				t.Accounts = append(t.Accounts, f)
			}
		default:
			return Trust{}, fmt.Errorf("eventbus: producer %q is neither a 12-digit account id nor %q", f, Organization)
		}
	}
	return t, nil
}

// IsZero reports whether t trusts no one.
func (t Trust) IsZero() bool { return len(t.Accounts) == 0 && !t.Organization }

// String is the list ParseTrust reads.
func (t Trust) String() string {
	parts := slices.Clone(t.Accounts)
	if t.Organization {
		parts = append(parts, Organization)
	}
	return strings.Join(parts, ",")
}

// Verify checks an activity event's envelope against the trusted producers:
// the source carries activity.SourcePrefix, the detail type is
// activity.DetailType, the publishing account (the envelope's account, which
// EventBridge sets from the caller's credentials) is trusted, and the
// activity's own account is one that publisher may speak for. a is the
// decoded activity, or nil when the detail did not decode. The error wraps
// ErrUnverified and says which check failed.
func (t Trust) Verify(ev events.EventBridgeEvent, a *activity.Activity) error {
	switch {
	case !strings.HasPrefix(ev.Source, activity.SourcePrefix):
		return fmt.Errorf("%w: source %q does not start with %q", ErrUnverified, ev.Source, activity.SourcePrefix)
	case ev.DetailType != activity.DetailType:
		return fmt.Errorf("%w: detail-type %q, want %q", ErrUnverified, ev.DetailType, activity.DetailType)
	case !accountID.MatchString(ev.AccountID):
		return fmt.Errorf("%w: publishing account %q is not an account id", ErrUnverified, ev.AccountID)
	}
	if slices.Contains(t.Accounts, ev.AccountID) {
		return nil
	}
	if !t.Organization {
		return fmt.Errorf("%w: published by account %s, which is not a trusted producer", ErrUnverified, ev.AccountID)
	}
	if a == nil || a.Account.ID != ev.AccountID {
		speaks := ""
		if a != nil {
			speaks = a.Account.ID
		}
		return fmt.Errorf("%w: account %s may publish activities about itself only, not about account %q", ErrUnverified, ev.AccountID, speaks)
	}
	return nil
}

// DecodeVerified is Decode followed by Verify: the activity of a trusted
// event, or an error. An envelope that fails the checks wraps ErrUnverified;
// a detail that is not an activity wraps what Decode reports.
func DecodeVerified(ev events.EventBridgeEvent, t Trust) (*activity.Activity, error) {
	if err := t.Verify(ev, nil); err != nil && !t.Organization {
		return nil, err
	}
	a, err := Decode(ev)
	if err != nil {
		if errors.Is(err, ErrNotActivity) {
			return nil, fmt.Errorf("%w: %w", ErrUnverified, err)
		}
		return nil, err
	}
	if err := t.Verify(ev, a); err != nil {
		return nil, err
	}
	return a, nil
}
