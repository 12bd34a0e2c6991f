package denial

import (
	"slices"
	"strings"

	"github.com/activity-aware/ids/activity"
)

// PolicyVersion is the IAM policy language version of suggested documents.
const PolicyVersion = "2012-10-17"

// PolicyDocument is an IAM policy document.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a suggested policy document. Action and
// Resource are always lists, which IAM accepts for one value too.
type Statement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// Suggest returns the policy document that would have allowed the fixable
// denials among perms, and the denials an Allow cannot fix (explicit denies,
// guardrails, unknown or encoded reasons, unknown actions), in their order.
// A resource that came with the event has its *, ? and $ in IAM's literal
// forms (IAMLiteral), so an object key "*" grants that one key, not the
// bucket.
// Actions are merged per resource, sorted and deduplicated; resources whose
// action sets are equal share a statement. It grants exactly what was denied:
// no wildcard is added that the denials did not state. Nil entries are
// skipped.
func Suggest(perms []*activity.Permission) (doc PolicyDocument, notFixable []*activity.Permission) {
	doc = PolicyDocument{Version: PolicyVersion, Statement: []Statement{}}
	byResource := map[string][]string{}
	for _, p := range perms {
		switch {
		case p == nil:
		case !p.Fixable || p.Action == "":
			notFixable = append(notFixable, p)
		default:
			res := statementResource(p)
			byResource[res] = append(byResource[res], p.Action)
		}
	}

	// Group resources by their (sorted, deduplicated) action set.
	byActions := map[string]*Statement{}
	for res, actions := range byResource {
		actions = sortedUnique(actions)
		key := strings.Join(actions, "\x00")
		st, ok := byActions[key]
		if !ok {
			st = &Statement{Effect: "Allow", Action: actions}
			byActions[key] = st
		}
		st.Resource = append(st.Resource, res)
	}
	for _, st := range byActions {
		slices.Sort(st.Resource)
		doc.Statement = append(doc.Statement, *st)
	}
	slices.SortFunc(doc.Statement, func(a, b Statement) int {
		if c := strings.Compare(a.Resource[0], b.Resource[0]); c != 0 {
			return c
		}
		return strings.Compare(a.Action[0], b.Action[0])
	})
	return doc, notFixable
}

// sortedUnique sorts IAM actions and drops duplicates, comparing
// case-insensitively as IAM does.
func sortedUnique(actions []string) []string {
	out := slices.Clone(actions)
	slices.SortFunc(out, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return slices.CompactFunc(out, strings.EqualFold)
}

// IAMLiteral writes the characters IAM reads in a Resource as wildcards or a
// policy variable — *, ? and $ — in their literal forms ${*}, ${?} and ${$},
// so that a statement grants the one resource a name with them denotes. An
// attacker who names an S3 object "*" (or "${aws:username}") asked for a
// denial that, copied raw, would grant the whole bucket. AnyResource ("*",
// the renderer's own "every resource") stays as it is.
func IAMLiteral(resource string) string {
	if resource == AnyResource || !strings.ContainsAny(resource, "*?$") {
		return resource
	}
	var b strings.Builder
	for _, r := range resource {
		switch r {
		case '*', '?', '$':
			b.WriteString("${" + string(r) + "}")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// statementResource is the Resource a statement for p names: AnyResource
// when p names none; the resource as AWS's decoded authorization message
// states it (its wildcards are AWS's); otherwise IAMLiteral of the resource,
// which came with the event. One wildcard is kept: a whole last segment "*"
// of an ARN other than S3's ("…:instance/*", "…:deploymentgroup:*"), AWS's
// way of naming every resource of a type, which no resource name outside S3
// can spell. An S3 ARN's key is the caller's own text and never keeps one.
func statementResource(p *activity.Permission) string {
	res := p.Resource
	switch {
	case res == "":
		return AnyResource
	case p.Reason == ReasonDecodedNoAllow || p.Reason == ReasonDecodedExplicitDeny:
		return res
	case !strings.Contains(res, ":s3:::") && (strings.HasSuffix(res, "/*") || strings.HasSuffix(res, ":*")):
		return IAMLiteral(res[:len(res)-1]) + "*"
	}
	return IAMLiteral(res)
}

// ReasonNotStated reports a fixable permission whose reason AWS did not state
// (a bare "Access Denied" from S3): its statement is the likeliest fix, not a
// certain one, and readers are told so.
func ReasonNotStated(p *activity.Permission) bool {
	return p != nil && p.Fixable && p.Reason == ReasonUnknown
}
