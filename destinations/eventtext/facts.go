package eventtext

import (
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
)

// Fact is one labelled value of an activity as the destinations outside
// Slack show it. Value is raw event text: each format makes it safe (Line)
// within its own limits.
type Fact struct {
	Label, Value string
}

// Facts are an activity's who/what/where facts in the order the messages
// show them (Who, Principal, Action, Error, Account, Region, Source IP,
// User agent, Time, Resources), empty values left out.
func Facts(a *activity.Activity) []Fact {
	var facts []Fact
	add := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			facts = append(facts, Fact{label, value})
		}
	}
	if act := a.Actor; act != nil {
		who := strings.TrimSpace(act.Name + " (" + act.Type + ")")
		if act.Name == "" {
			who = act.ARN
		}
		add("Who", strings.TrimSuffix(who, " ()"))
		if act.ARN != "" && act.ARN != act.Name {
			add("Principal", act.ARN)
		}
	}
	if ac := a.Action; ac != nil {
		short, _, _ := strings.Cut(ac.Service, ".")
		add("Action", strings.TrimPrefix(short+":"+ac.Name, ":"))
		add("Error", strings.TrimSuffix(strings.TrimPrefix(ac.ErrorCode+": "+ac.ErrorMessage, ": "), ": "))
	}
	account := a.Account.ID
	if strings.TrimSpace(a.Account.Name) != "" {
		account += " (" + a.Account.Name + ")"
	}
	add("Account", strings.TrimSpace(account))
	add("Region", a.Region)
	if act := a.Actor; act != nil {
		add("Source IP", act.SourceIP)
		add("User agent", act.UserAgent)
	}
	if !a.Time.IsZero() {
		add("Time", a.Time.UTC().Format(time.RFC3339))
	}
	var res []string
	for _, r := range a.Resources {
		res = append(res, r.ARN)
	}
	add("Resources", strings.Join(res, ", "))
	return facts
}

// DetectionTitles are the titles of a's detections (the id where a title is
// empty), raw.
func DetectionTitles(a *activity.Activity) []string {
	var ids []string
	for _, d := range a.Detections {
		t := d.Title
		if strings.TrimSpace(t) == "" {
			t = d.ID
		}
		ids = append(ids, t)
	}
	return ids
}

// ConsoleLinks are the first max of a's links that go to the AWS console
// (ConsoleURL), the only links a destination shows. Titles are raw.
func ConsoleLinks(a *activity.Activity, max int) []activity.Link {
	var out []activity.Link
	for _, l := range a.Links {
		if len(out) == max {
			break
		}
		if ConsoleURL(l.URL) {
			out = append(out, l)
		}
	}
	return out
}
