package eventtext

import (
	"reflect"
	"testing"

	"github.com/activity-aware/ids/activity"
)

func TestFactsAndLinks(t *testing.T) {
	a := &activity.Activity{
		Account:    activity.Account{ID: "111122223333", Name: "prod"},
		Actor:      &activity.Actor{Type: "IAMUser", Name: "bob", ARN: "arn:aws:iam::111122223333:user/bob"},
		Action:     &activity.Action{Service: "iam.amazonaws.com", Name: "GetPolicy", ErrorCode: "AccessDenied"},
		Resources:  []activity.Resource{{ARN: "arn:a"}, {ARN: "arn:b"}},
		Detections: []activity.Detection{{ID: "d1", Title: "Denied"}, {ID: "d2"}},
	}
	for i := range 7 {
		a.Links = append(a.Links, activity.Link{Title: "evil", URL: "https://evil.example/"}, activity.Link{Title: string(rune('a' + i)), URL: "https://console.aws.amazon.com/x"})
	}
	want := []Fact{{"Who", "bob (IAMUser)"}, {"Principal", "arn:aws:iam::111122223333:user/bob"}, {"Action", "iam:GetPolicy"},
		{"Error", "AccessDenied"}, {"Account", "111122223333 (prod)"}, {"Resources", "arn:a, arn:b"}}
	if got := Facts(a); !reflect.DeepEqual(got, want) {
		t.Errorf("Facts = %v", got)
	}
	if got := DetectionTitles(a); !reflect.DeepEqual(got, []string{"Denied", "d2"}) {
		t.Errorf("DetectionTitles = %v", got)
	}
	links := ConsoleLinks(a, 5)
	if len(links) != 5 || links[0].Title != "a" || links[4].Title != "e" {
		t.Errorf("ConsoleLinks = %v", links)
	}
}
