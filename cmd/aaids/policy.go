package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/cmd/aaids/internal/logfile"
	"github.com/activity-aware/ids/denial"
)

const policyUsage = `Usage: aaids policy suggest [--principal ARN] PATH...

Reads CloudTrail data like 'aaids replay', collects the denied calls (of every
principal, or of the one given) and prints the IAM policy document that would
have allowed them: the actions each resource was denied, merged, sorted and
deduplicated; no wildcard is added that AWS did not state.

Denials an Allow cannot fix (explicit denies, guardrails such as SCPs, RCPs,
permissions boundaries, session and VPC endpoint policies, and denials whose
reason AWS did not state) are listed on stderr as "not fixable by an allow",
with a summary. S3's bare "Access Denied" is the exception: its most common
cause is a missing allow, so it is in the document and listed on stderr as
"reason not stated by AWS".

A *, ? or $ that came with the event (an S3 object key "*", say) is written
in IAM's literal form (${*}, ${?}, ${$}), so the document grants the resource
that was denied and never a wildcard the caller chose.

--principal matches the caller's ARN, its session issuer, or a role's ARN for
the sessions of that role.

Exit status: 0 when all input was processed, 1 when some input could not be
read or decoded (the rest is still processed), 2 for usage errors.

Options:
`

func runPolicy(ctx context.Context, args []string, stdio Stdio) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Err, policyUsage)
		return exitUsage
	}
	switch args[0] {
	case "suggest":
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdio.Err, policyUsage)
		return exitOK
	default:
		fmt.Fprintf(stdio.Err, "aaids policy: unknown subcommand %q (want suggest)\n", args[0])
		return exitUsage
	}
	fs := flag.NewFlagSet("policy suggest", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	principal := fs.String("principal", "", "only the denials of this principal `ARN` (user, role or session)")
	fs.Usage = func() {
		fmt.Fprint(stdio.Err, policyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stdio.Err, "aaids policy suggest: no PATH given")
		fs.Usage()
		return exitUsage
	}
	if *principal != "" && !strings.HasPrefix(*principal, "arn:") {
		fmt.Fprintf(stdio.Err, "aaids policy suggest: --principal %q is not an ARN\n", *principal)
		return exitUsage
	}

	// Every denial counts, whatever filter or preset would report it.
	pipe, err := newPipeline("", "")
	if err != nil {
		fmt.Fprintf(stdio.Err, "aaids policy suggest: %v\n", err)
		return exitUsage
	}
	c := &collector{
		principal: *principal,
		actors:    map[*activity.Permission]string{},
		perActor:  map[string]int{},
	}
	st := pipe.run(ctx, fs.Args(), "aaids policy suggest", stdio.Err, c.collect)

	doc, notFixable := denial.Suggest(c.perms)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		st.errors++
		fmt.Fprintf(stdio.Err, "aaids policy suggest: encode policy: %v\n", err)
	} else {
		fmt.Fprintf(stdio.Out, "%s\n", out)
	}
	// The same denial repeated (a probing loop) is one line with its count.
	var lines []string
	repeats := map[string]int{}
	for _, p := range notFixable {
		line := describe(p, c.actors[p])
		if repeats[line] == 0 {
			lines = append(lines, line)
		}
		repeats[line]++
	}
	for _, line := range lines {
		if n := repeats[line]; n > 1 {
			line = fmt.Sprintf("%s (%d times)", line, n)
		}
		fmt.Fprintf(stdio.Err, "aaids policy suggest: not fixable by an allow: %s\n", line)
	}
	// A bare "Access Denied" is in the document as the likeliest fix; say so.
	for _, p := range c.perms {
		if denial.ReasonNotStated(p) {
			fmt.Fprintf(stdio.Err, "aaids policy suggest: reason not stated by AWS (suggested as a missing allow): %s\n", describe(p, c.actors[p]))
		}
	}
	c.summary(stdio.Err, st, len(doc.Statement), len(notFixable))
	if st.errors > 0 {
		return exitInput
	}
	return exitOK
}

// collector gathers the explained denials of what logfile reads.
type collector struct {
	principal string
	perms     []*activity.Permission
	// actors maps each collected permission to its caller's ARN.
	actors   map[*activity.Permission]string
	perActor map[string]int
}

// collect keeps the explained denials among acts.
func (c *collector) collect(_ logfile.Item, acts []*activity.Activity, _ *events.EventBridgeEvent) {
	for _, a := range acts {
		if a.Permission == nil || (c.principal != "" && !principalMatches(a.Actor, c.principal)) {
			continue
		}
		actor := "unknown principal"
		if a.Actor != nil && a.Actor.ARN != "" {
			actor = a.Actor.ARN
		}
		c.perms = append(c.perms, a.Permission)
		c.actors[a.Permission] = actor
		c.perActor[actor]++
	}
}

// summary prints the counts, and the principals when several were merged so
// that the reader can narrow with --principal.
func (c *collector) summary(w io.Writer, st runStats, statements, notFixable int) {
	fmt.Fprintf(w, "aaids policy suggest: files %d, records %d, denials %d, principals %d, statements %d, not fixable %d, errors %d\n",
		st.files, st.records, len(c.perms), len(c.perActor), statements, notFixable, st.errors)
	if c.principal != "" || len(c.perActor) < 2 {
		return
	}
	actors := make([]string, 0, len(c.perActor))
	for a := range c.perActor {
		actors = append(actors, a)
	}
	sort.Strings(actors)
	fmt.Fprintln(w, "aaids policy suggest: the document merges the denials of several principals (narrow with --principal):")
	for _, a := range actors {
		fmt.Fprintf(w, "  %s: %d denials\n", a, c.perActor[a])
	}
}

// describe is one line about a denial an Allow cannot fix.
func describe(p *activity.Permission, actor string) string {
	action := p.Action
	if action == "" {
		action = "an unknown action"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s by %s: %s", action, p.Resource, actor, p.ReasonText)
	if p.Guardrail {
		b.WriteString(" (a guardrail held)")
	}
	return b.String()
}

// principalMatches reports whether the actor is the principal: its ARN or
// session issuer, or a session of the role the principal names (a role ARN
// has a path that its sessions' ARNs omit).
func principalMatches(actor *activity.Actor, principal string) bool {
	if actor == nil {
		return false
	}
	if actor.ARN == principal || actor.SessionIssuer == principal {
		return true
	}
	rolePart, roleAccount, ok := arnResource(principal, "iam")
	if !ok || !strings.HasPrefix(rolePart, "role/") {
		return false
	}
	sessionPart, sessionAccount, ok := arnResource(actor.ARN, "sts")
	if !ok || !strings.HasPrefix(sessionPart, "assumed-role/") || sessionAccount != roleAccount {
		return false
	}
	roleName := rolePart[strings.LastIndex(rolePart, "/")+1:]
	sessionRole, _, _ := strings.Cut(strings.TrimPrefix(sessionPart, "assumed-role/"), "/")
	return roleName == sessionRole
}

// arnResource splits an ARN of the given service into its resource part and
// account.
func arnResource(arn, service string) (resource, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != service {
		return "", "", false
	}
	return parts[5], parts[4], true
}
