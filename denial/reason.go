package denial

import (
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Reason classes: why AWS denied a call, as its access-denied message states
// it. The values are stable: they travel in activity.Permission.Reason and
// destinations and filters match on them.
const (
	// ReasonNoIdentityPolicy: no identity-based policy allows the action (an
	// implicit deny that an Allow in the principal's policies fixes).
	ReasonNoIdentityPolicy = "no-identity-policy"
	// ReasonNoResourcePolicy: no resource-based policy (bucket, key, secret,
	// function policy, …) allows the action.
	ReasonNoResourcePolicy = "no-resource-policy"
	// ReasonNoRoleTrustPolicy: the role's trust policy does not allow the
	// principal to assume it.
	ReasonNoRoleTrustPolicy = "no-role-trust-policy"
	// ReasonExplicitDenyIdentityPolicy: a Deny statement in an identity-based
	// policy.
	ReasonExplicitDenyIdentityPolicy = "explicit-deny-identity-policy"
	// ReasonExplicitDenyResourcePolicy: a Deny statement in a resource-based
	// policy.
	ReasonExplicitDenyResourcePolicy = "explicit-deny-resource-policy"
	// ReasonExplicitDenyRoleTrustPolicy: a Deny statement in the role's trust
	// policy.
	ReasonExplicitDenyRoleTrustPolicy = "explicit-deny-role-trust-policy"
	// ReasonExplicitDenySCP: an AWS Organizations service control policy (AWS
	// words every SCP denial so, even an implicit one).
	ReasonExplicitDenySCP = "explicit-deny-scp"
	// ReasonNoSCP: no service control policy allows the action.
	ReasonNoSCP = "no-scp"
	// ReasonExplicitDenyRCP: an AWS Organizations resource control policy.
	ReasonExplicitDenyRCP = "explicit-deny-rcp"
	// ReasonExplicitDenyPermissionsBoundary: a Deny statement in the
	// principal's permissions boundary.
	ReasonExplicitDenyPermissionsBoundary = "explicit-deny-permissions-boundary"
	// ReasonNoPermissionsBoundary: the permissions boundary does not allow the
	// action.
	ReasonNoPermissionsBoundary = "no-permissions-boundary"
	// ReasonExplicitDenySessionPolicy: a Deny statement in the session policy
	// passed when the session was created.
	ReasonExplicitDenySessionPolicy = "explicit-deny-session-policy"
	// ReasonNoSessionPolicy: the session policy does not allow the action.
	ReasonNoSessionPolicy = "no-session-policy"
	// ReasonExplicitDenyVPCEndpointPolicy: a Deny statement in the VPC
	// endpoint policy the request went through.
	ReasonExplicitDenyVPCEndpointPolicy = "explicit-deny-vpc-endpoint-policy"
	// ReasonNoVPCEndpointPolicy: the VPC endpoint policy does not allow the
	// action.
	ReasonNoVPCEndpointPolicy = "no-vpc-endpoint-policy"
	// ReasonVPCEndpointPolicy: a VPC endpoint policy denied the request
	// (CloudTrail network activity events, which do not say how).
	ReasonVPCEndpointPolicy = "vpc-endpoint-policy"
	// ReasonS3BlockPublicAccess: S3 Block Public Access refused a public ACL or
	// bucket policy.
	ReasonS3BlockPublicAccess = "s3-block-public-access"
	// ReasonEncoded: the reason is only in an encoded authorization failure
	// message (EC2 and a few others); sts:DecodeAuthorizationMessage reveals it.
	ReasonEncoded = "encoded"
	// ReasonDecodedExplicitDeny: the decoded authorization message reports an
	// explicit deny (it does not say in which kind of policy).
	ReasonDecodedExplicitDeny = "explicit-deny"
	// ReasonDecodedNoAllow: the decoded authorization message reports that no
	// policy allows the action.
	ReasonDecodedNoAllow = "no-allow"
	// ReasonUnknown: the message does not say which policy denied the call.
	ReasonUnknown = "unknown"
)

// reasonClass describes one reason class.
type reasonClass struct {
	// text is the reason for a human, written to follow "Missing: action on
	// resource — ".
	text string
	// guardrail: an organization or session guardrail refused the call.
	guardrail bool
	// fixable: an Allow statement would have permitted the call.
	fixable bool
}

var reasonClasses = map[string]reasonClass{
	ReasonNoIdentityPolicy:                {text: "no identity-based policy allows it", fixable: true},
	ReasonNoResourcePolicy:                {text: "no resource-based policy allows it", fixable: true},
	ReasonNoRoleTrustPolicy:               {text: "the role's trust policy does not allow it", fixable: true},
	ReasonExplicitDenyIdentityPolicy:      {text: "an identity-based policy explicitly denies it"},
	ReasonExplicitDenyResourcePolicy:      {text: "a resource-based policy explicitly denies it"},
	ReasonExplicitDenyRoleTrustPolicy:     {text: "the role's trust policy explicitly denies it"},
	ReasonExplicitDenySCP:                 {text: "a service control policy denies it", guardrail: true},
	ReasonNoSCP:                           {text: "no service control policy allows it", guardrail: true},
	ReasonExplicitDenyRCP:                 {text: "a resource control policy denies it", guardrail: true},
	ReasonExplicitDenyPermissionsBoundary: {text: "the permissions boundary explicitly denies it", guardrail: true},
	ReasonNoPermissionsBoundary:           {text: "the permissions boundary does not allow it", guardrail: true},
	ReasonExplicitDenySessionPolicy:       {text: "the session policy explicitly denies it", guardrail: true},
	ReasonNoSessionPolicy:                 {text: "the session policy does not allow it", guardrail: true},
	ReasonExplicitDenyVPCEndpointPolicy:   {text: "the VPC endpoint policy explicitly denies it", guardrail: true},
	ReasonNoVPCEndpointPolicy:             {text: "no VPC endpoint policy allows it", guardrail: true},
	ReasonVPCEndpointPolicy:               {text: "a VPC endpoint policy denied it", guardrail: true},
	ReasonS3BlockPublicAccess:             {text: "S3 Block Public Access prevents it", guardrail: true},
	ReasonEncoded:                         {text: "the reason is in the encoded authorization failure message (sts:DecodeAuthorizationMessage decodes it)"},
	ReasonDecodedExplicitDeny:             {text: "a policy explicitly denies it (decoded authorization message)"},
	ReasonDecodedNoAllow:                  {text: "no policy allows it (decoded authorization message)", fixable: true},
	ReasonUnknown:                         {text: "AWS did not say which policy denied it"},
}

// Reasons returns every reason class, in a stable order.
func Reasons() []string {
	return []string{
		ReasonNoIdentityPolicy, ReasonNoResourcePolicy, ReasonNoRoleTrustPolicy,
		ReasonExplicitDenyIdentityPolicy, ReasonExplicitDenyResourcePolicy, ReasonExplicitDenyRoleTrustPolicy,
		ReasonExplicitDenySCP, ReasonNoSCP, ReasonExplicitDenyRCP,
		ReasonExplicitDenyPermissionsBoundary, ReasonNoPermissionsBoundary,
		ReasonExplicitDenySessionPolicy, ReasonNoSessionPolicy,
		ReasonExplicitDenyVPCEndpointPolicy, ReasonNoVPCEndpointPolicy, ReasonVPCEndpointPolicy,
		ReasonS3BlockPublicAccess, ReasonEncoded, ReasonDecodedExplicitDeny, ReasonDecodedNoAllow, ReasonUnknown,
	}
}

// ReasonText returns the human text of a reason class ("" for an unknown
// class).
func ReasonText(reason string) string { return reasonClasses[reason].text }

// IsGuardrail reports whether the reason class is a guardrail's refusal: an
// SCP, RCP, permissions boundary, session policy, VPC endpoint policy or S3
// Block Public Access.
func IsGuardrail(reason string) bool { return reasonClasses[reason].guardrail }

// reasonPhrases maps the wording of AWS's access-denied messages (lower case)
// to reason classes. Order matters: the first match wins, so a phrase that
// contains another comes first (a VPC endpoint deny "transitively through a
// service control policy" is the SCP's).
var reasonPhrases = []struct {
	phrase string
	reason string
}{
	{"transitively through a service control policy", ReasonExplicitDenySCP},
	{"explicit deny in a service control policy", ReasonExplicitDenySCP},
	{"no service control policy allows", ReasonNoSCP},
	{"explicit deny in a resource control policy", ReasonExplicitDenyRCP},
	{"explicit deny in a permissions boundary", ReasonExplicitDenyPermissionsBoundary},
	{"no permissions boundary allows", ReasonNoPermissionsBoundary},
	// AWS's own example says "in a sessions policy".
	{"explicit deny in a session", ReasonExplicitDenySessionPolicy},
	{"no session policy allows", ReasonNoSessionPolicy},
	{"explicit deny in a vpc endpoint policy", ReasonExplicitDenyVPCEndpointPolicy},
	{"no vpc endpoint policy allows", ReasonNoVPCEndpointPolicy},
	{"denied due to a vpc endpoint policy", ReasonVPCEndpointPolicy},
	{"explicit deny in the role trust policy", ReasonExplicitDenyRoleTrustPolicy},
	{"explicit deny in a role trust policy", ReasonExplicitDenyRoleTrustPolicy},
	{"no role trust policy allows", ReasonNoRoleTrustPolicy},
	// AWS's own example of the implicit trust-policy denial drops the "no".
	{"because the role trust policy allows", ReasonNoRoleTrustPolicy},
	{"explicit deny in a resource-based policy", ReasonExplicitDenyResourcePolicy},
	{"no resource-based policy allows", ReasonNoResourcePolicy},
	{"explicit deny in an identity-based policy", ReasonExplicitDenyIdentityPolicy},
	{"no identity-based policy allows", ReasonNoIdentityPolicy},
	{"in s3 block public access", ReasonS3BlockPublicAccess},
}

// phraseKeys are words one of which every phrase holds: a message without
// any states no reason, and skips the costlier normalizing and search.
var phraseKeys = [...]string{"polic", "boundar", "explicit deny in a session", "public access"}

// phraseAt locates each reason phrase by a key it holds: its index in
// phraseKeys and where in the phrase it is. A phrase occurs only where its
// key does, so the search looks for the four keys, not for twenty phrases.
var phraseAt = func() []struct{ key, offset int } {
	at := make([]struct{ key, offset int }, len(reasonPhrases))
	for i, p := range reasonPhrases {
		at[i].key = slices.IndexFunc(phraseKeys[:], func(k string) bool { return strings.Contains(p.phrase, k) })
		if at[i].key < 0 {
			panic("denial: reason phrase " + p.phrase + " holds no key")
		}
		at[i].offset = strings.Index(p.phrase, phraseKeys[at[i].key])
	}
	return at
}()

// classify returns the reason class a message states, or "" when it states
// none.
func classify(message string) string { return classifyLower(toLower(message)) }

// classifyLower is classify of a message already in lower case: the first
// of reasonPhrases the message holds once its runs of spaces are single
// spaces.
func classifyLower(m string) string {
	// Where each key occurs in m (on the stack unless a key recurs often):
	// found in m as it is, and again once its spacing is normalized.
	var keys [len(phraseKeys)][]int
	var stores [len(phraseKeys)][8]int
	for normalized := false; ; normalized = true {
		found := false
		for k, key := range phraseKeys {
			keys[k] = stores[k][:0]
			for from := 0; ; {
				i := strings.Index(m[from:], key)
				if i < 0 {
					break
				}
				keys[k] = append(keys[k], from+i)
				from += i + 1
			}
			found = found || len(keys[k]) > 0
		}
		if !found {
			return ""
		}
		if normalized || singleSpaced(m) {
			break
		}
		m = strings.Join(strings.Fields(m), " ")
	}
	for i, p := range reasonPhrases {
		for _, at := range keys[phraseAt[i].key] {
			if start := at - phraseAt[i].offset; start >= 0 && strings.HasPrefix(m[start:], p.phrase) {
				return p.reason
			}
		}
	}
	return ""
}

// singleSpaced reports whether strings.Fields and a join with single spaces
// would leave m as it is: ASCII, no space at either end, no two in a row,
// no space but ' '.
func singleSpaced(m string) bool {
	if m == "" {
		return true
	}
	if m[0] == ' ' || m[len(m)-1] == ' ' {
		return false
	}
	// Eight bytes at a time while they are ASCII: none of '\t' to '\r',
	// no two spaces in a row (within the word, or across from the last).
	src := unsafe.Slice(unsafe.StringData(m), len(m)) // only read
	i, lastSpace := 0, uint64(0)
	for ; i+8 <= len(m); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		if x&highs != 0 || (x+(0x80-'\t')*ones)&^(x+(0x80-'\r'-1)*ones)&highs != 0 {
			return false
		}
		space := ^((x ^ ' '*ones) + 0x7f*ones) & highs // exact: every byte is below 0x80
		if space&(space>>8|lastSpace) != 0 {
			return false
		}
		lastSpace = space >> 63 << 7 // the last byte's mark, moved to the first's
	}
	for i = max(i-1, 0); i < len(m); i++ {
		switch b := m[i]; {
		case b >= utf8.RuneSelf, b == '\t', b == '\n', b == '\v', b == '\f', b == '\r':
			return false
		case b == ' ' && m[i+1] == ' ':
			return false
		}
	}
	return true
}
