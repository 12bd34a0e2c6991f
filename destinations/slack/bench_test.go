package slack

import (
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/localslack"
)

func BenchmarkRender(b *testing.B) {
	for name, a := range map[string]*activity.Activity{
		"denial":  loadActivity(b, "testdata/iam-user-denial.activity.json"),
		"hostile": hostileActivity(),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Render(a)
			}
		})
	}
}

// BenchmarkPost is the destination's per-message latency against the local
// Slack: render, encode, post over loopback HTTP, answer.
func BenchmarkPost(b *testing.B) {
	s := localslack.New()
	defer s.Close()
	a := loadActivity(b, "testdata/iam-user-denial.activity.json")
	c := NewClient(nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Post(b.Context(), s.URL(), Render(a)); err != nil {
			b.Fatal(err)
		}
	}
}
