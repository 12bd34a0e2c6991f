package cloudtrail

import (
	"cmp"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// actor builds the activity's actor from userIdentity, with a readable name
// for every identity type CloudTrail documents.
// The actor is built in a, and MFA, when known, in mfa.
func (r *record) actor(sc *scratch, a *activity.Actor, mfa *bool) *activity.Actor {
	id := &r.identity
	*a = activity.Actor{
		Type:        sc.str(id[iType]),
		ARN:         sc.str(id[iARN]),
		AccountID:   sc.str(id[iAccountID]),
		PrincipalID: sc.str(id[iPrincipalID]),
		AccessKeyID: sc.str(id[iAccessKeyID]),
		InvokedBy:   sc.str(id[iInvokedBy]),
	}
	session := id[iSessionContext]
	issuer := get(session, "sessionIssuer")
	issuerARN, issuerName := sc.str(get(issuer, "arn")), sc.str(get(issuer, "userName"))
	a.MFA = sc.boolean(get(get(session, "attributes"), "mfaAuthenticated"), mfa)
	a.SessionIssuer = cmp.Or(issuerARN, issuerName)
	a.Name = r.name(sc, a, issuerName)
	return a
}

// name is the readable actor name, e.g. "alice", "root",
// "role/Admin (session alice@corp)", "ec2.amazonaws.com".
func (r *record) name(sc *scratch, a *activity.Actor, issuerName string) string {
	userName := sc.str(r.identity[iUserName])
	resource := awsevents.ARNField(a.ARN, 5)
	switch a.Type {
	case "Root":
		return "root"
	case "IAMUser": // a userName is returned below
		if r, ok := strings.CutPrefix(resource, "user/"); ok && userName == "" {
			return r[strings.LastIndexByte(r, '/')+1:]
		}
	case "AssumedRole":
		role, session := issuerName, ""
		if r, ok := strings.CutPrefix(resource, "assumed-role/"); ok {
			role, session, _ = strings.Cut(r, "/")
		} else if _, s, ok := strings.Cut(a.PrincipalID, ":"); ok {
			session = s
		}
		if role != "" {
			if session != "" {
				return sc.join("role/", role, " (session ", session, ")")
			}
			return sc.join("role/", role)
		}
	case "FederatedUser":
		user := userName
		if r, ok := strings.CutPrefix(resource, "federated-user/"); ok && user == "" {
			user = r
		}
		if user != "" {
			if issuerName != "" {
				return sc.join(user, " (via user/", issuerName, ")")
			}
			return user
		}
	case "AWSService":
		if a.InvokedBy != "" {
			return a.InvokedBy
		}
	case "AWSAccount":
		if a.AccountID != "" {
			return sc.join("account ", a.AccountID)
		}
	case "IdentityCenterUser":
		if userName != "" {
			return userName
		}
		if u := sc.str(get(r.identity[iOnBehalfOf], "userId")); u != "" {
			return u
		}
	case "SAMLUser", "WebIdentityUser":
		if userName != "" {
			if p := sc.str(r.identity[iIdentityProvider]); p != "" {
				return sc.join(userName, " (", p, ")")
			}
			return userName
		}
	}
	// Unknown, missing or undocumented types: whatever names the caller.
	if s := cmp.Or(userName, resource, a.PrincipalID, a.InvokedBy); s != "" {
		return s
	}
	if a.AccountID != "" {
		return sc.join("account ", a.AccountID)
	}
	return "unknown identity"
}
