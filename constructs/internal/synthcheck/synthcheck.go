// Package synthcheck lets a construct refuse, at synthesis, a configuration
// that can only be judged once tokens resolve: CDK reports the message as a
// validation error and writes no template.
package synthcheck

import (
	"github.com/aws/constructs-go/constructs/v10"
)

// Check reports the problems of a construct's configuration; an empty
// result means none.
type Check func() []string

type validation struct{ check Check }

// Validate implements constructs.IValidation.
func (v *validation) Validate() *[]*string {
	problems := v.check()
	out := make([]*string, len(problems))
	for i := range problems {
		out[i] = &problems[i]
	}
	return &out
}

// Add registers check on c; it runs when the app is synthesized.
func Add(c constructs.Construct, check Check) {
	c.Node().AddValidation(&validation{check: check})
}
