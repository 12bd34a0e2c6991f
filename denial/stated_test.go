package denial

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// statedReference is the regular expression statedIn stands in for.
var statedReference = regexp.MustCompile(`(?i)not authorized to perform:?\s+([a-z0-9-]+:[a-z0-9*]+)(?:\s+on\s+resource:?\s+(?:"([^"]*)"|(?:[a-z-]+\s+)?(arn:\S+)|(\S+)))?`)

// statedSeeds are AWS's wordings and the corners of the expression.
var statedSeeds = []string{
	"User: arn:aws:iam::123456789012:user/tester is not authorized to perform: iam:GetPolicy on resource: policy arn:aws:iam::aws:policy/X because no identity-based policy allows the iam:GetPolicy action",
	`User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no resource-based policy allows it`,
	"Not authorized to perform sts:AssumeRoleWithWebIdentity",
	"is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:1:instance/*.",
	"is not authorized to perform: kms:Decrypt on resource: *",
	"not authorized to perform this operation. not authorized to perform: a:B",
	"NOT AUTHORIZED TO PERFORM:\tSNS:Publish\n ON\tRESOURCE:\r\nARN:aws:sns:x",
	"not authorized to perform: s3:* on reſource: arn:x",
	"not authorized to perform: \u212aMS:Decrypt on resource \"unterminated",
	"not authorized to perform:iam:X on resource: y",
	"not authorized to perform: iam: on resource: y",
	"not authorized to perform: :X",
	"not authorized to perform: iam:X on resource:",
	"not authorized to perform: iam:X on resource: arn:",
	"not authorized to perform: iam:X on resource: type-word arn: x",
	"not authorized to perform: iam:X on resource: type arn:a\xff",
	"not authorized to perform: iam:X one resource: y",
	"not authorized to perform: ia\xffm:X",
}

func TestStatedInSeeds(t *testing.T) {
	for _, msg := range statedSeeds {
		checkStatedIn(t, msg)
	}
}

// FuzzStatedIn: statedIn finds what its regular expression finds.
func FuzzStatedIn(f *testing.F) {
	for _, msg := range statedSeeds {
		f.Add(msg)
	}
	f.Fuzz(checkStatedIn)
}

func checkStatedIn(t *testing.T, msg string) {
	want := statedReference.FindStringSubmatch(msg)
	got, ok := statedIn(msg)
	if ok != (want != nil) {
		t.Fatalf("statedIn(%q) found %v, the expression %v", msg, ok, want != nil)
	}
	if ok && (got != statedMatch{action: want[1], quoted: want[2], arn: want[3], other: want[4]}) {
		t.Fatalf("statedIn(%q) = %+v, the expression %q", msg, got, want[1:])
	}
}

// classifyReference is classify as plainly as it can be written.
func classifyReference(message string) string {
	m := strings.ToLower(message)
	if !slices.ContainsFunc(phraseKeys[:], func(k string) bool { return strings.Contains(m, k) }) {
		return ""
	}
	m = strings.Join(strings.Fields(m), " ")
	for _, p := range reasonPhrases {
		if strings.Contains(m, p.phrase) {
			return p.reason
		}
	}
	return ""
}

// classifySeeds are messages with every phrase, spaced oddly.
func classifySeeds() []string {
	seeds := []string{"", " ", "Access Denied", "policy policy", "explicit deny in a session policy\u00a0no  session policy allows", "no\tvpc endpoint\npolicy allows"}
	for _, p := range reasonPhrases {
		seeds = append(seeds, "because "+p.phrase, strings.ToUpper(p.phrase)+" ", strings.ReplaceAll(p.phrase, " ", "  "), p.phrase[1:]+" polic")
	}
	return seeds
}

func TestClassifySeeds(t *testing.T) {
	for _, msg := range classifySeeds() {
		checkClassify(t, msg)
	}
}

// FuzzClassify: classify finds the phrase the plain search finds.
func FuzzClassify(f *testing.F) {
	for _, msg := range classifySeeds() {
		f.Add(msg)
	}
	f.Fuzz(checkClassify)
}

func checkClassify(t *testing.T, msg string) {
	if got, want := classify(msg), classifyReference(msg); got != want {
		t.Fatalf("classify(%q) = %q, the plain search %q", msg, got, want)
	}
}

// FuzzSingleSpaced: singleSpaced is true exactly when strings.Fields and a
// join with single spaces leave the message as it is (ASCII, as the
// classifier lowers it; any other byte answers false), eight bytes at a time
// or not.
func FuzzSingleSpaced(f *testing.F) {
	for _, s := range []string{"", " ", "a", "a b", "a  b", "1234567 8", "1234567  890", "12345678 9", "1234567\t8", "12345678\r",
		"no identity-based policy allows the iam:PassRole action", "eight by  tes", "é tait", "abcdefgh\u00a0ijk", "abcdefg\vhij",
		"abc\rdefgh", "abc\tdefgh", "abc\x0edefgh", "abc\x08defgh", "abc\x1fdefgh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, m string) {
		want := strings.Join(strings.Fields(m), " ") == m
		for i := 0; i < len(m) && want; i++ {
			want = m[i] < utf8.RuneSelf
		}
		if got := singleSpaced(m); got != want {
			t.Fatalf("singleSpaced(%q) = %v, want %v", m, got, want)
		}
	})
}
