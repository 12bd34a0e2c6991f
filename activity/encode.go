package activity

import (
	"encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/activity-aware/ids/internal/jsonscan"
)

// appendActivity appends the JSON encoding of a, byte for byte what
// encoding/json produces with SetEscapeHTML(false), without reflection. It
// reports false when it cannot vouch for identical output (a time outside
// years 0-9999, or a raw JSON member that is not already compact and strictly
// valid); the caller then falls back to encoding/json, which compacts or
// rejects it. A Detail marked by SetCheckedDetail is not checked again.
//
// It must follow the struct tags of Activity and its parts: the identity test
// in encode_test.go fails when a field is added here but not there.
func appendActivity(b []byte, a *Activity) ([]byte, bool) {
	if len(a.Detail) > 0 && !a.detailChecked() && !compactJSON(a.Detail) {
		return b, false
	}
	if a.Permission != nil && len(a.Permission.Statement) > 0 && !compactJSON(a.Permission.Statement) {
		return b, false
	}
	b = append(b, `{"schemaVersion":`...)
	b = appendString(b, a.SchemaVersion)
	b = append(b, `,"id":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"source":`...)
	b = appendString(b, a.Source)
	b = append(b, `,"subject":`...)
	b = appendString(b, a.Subject)
	b = append(b, `,"severity":`...)
	b = appendString(b, string(a.Severity))
	b = append(b, `,"time":"`...)
	// AppendText is MarshalJSON without the quotes and the allocation; both
	// reject a year outside 0-9999.
	b, err := a.Time.AppendText(b)
	if err != nil {
		return nil, false
	}
	b = append(b, '"')
	b = append(b, `,"account":{`...)
	b = appendFields(b, true, "id", a.Account.ID, "name", a.Account.Name)
	b = append(b, '}')
	b = appendOpt(b, "region", a.Region)
	if ac := a.Actor; ac != nil {
		b = append(b, `,"actor":{`...)
		first := true
		for _, kv := range [...]struct{ k, v string }{
			{"type", ac.Type}, {"arn", ac.ARN}, {"name", ac.Name}, {"accountId", ac.AccountID},
			{"principalId", ac.PrincipalID}, {"accessKeyId", ac.AccessKeyID}, {"sessionIssuer", ac.SessionIssuer},
		} {
			b, first = appendMember(b, first, kv.k, kv.v)
		}
		if ac.MFA != nil {
			b, first = appendBool(b, first, "mfa", *ac.MFA)
		}
		b, first = appendMember(b, first, "sourceIp", ac.SourceIP)
		b, first = appendMember(b, first, "userAgent", ac.UserAgent)
		b, _ = appendMember(b, first, "invokedBy", ac.InvokedBy)
		b = append(b, '}')
	}
	if ac := a.Action; ac != nil {
		b = append(b, `,"action":{`...)
		first := true
		b, first = appendMember(b, first, "service", ac.Service)
		b, first = appendMember(b, first, "name", ac.Name)
		if ac.ReadOnly != nil {
			b, first = appendBool(b, first, "readOnly", *ac.ReadOnly)
		}
		b, first = appendMember(b, first, "errorCode", ac.ErrorCode)
		b, first = appendMember(b, first, "errorMessage", ac.ErrorMessage)
		b, _ = appendMember(b, first, "outcome", string(ac.Outcome))
		b = append(b, '}')
	}
	if len(a.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, r := range a.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = appendFields(b, true, "type", r.Type, "arn", r.ARN)
			b, _ = appendMember(b, r.Type == "" && r.ARN == "", "accountId", r.AccountID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(a.Fields) > 0 {
		b = append(b, `,"fields":[`...)
		for i, f := range a.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = appendString(b, f.Key)
			b = append(b, `,"value":`...)
			b = appendString(b, f.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendStrings(b, "tags", a.Tags)
	if len(a.Links) > 0 {
		b = append(b, `,"links":[`...)
		for i, l := range a.Links {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"title":`...)
			b = appendString(b, l.Title)
			b = append(b, `,"url":`...)
			b = appendString(b, l.URL)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(a.Detections) > 0 {
		b = append(b, `,"detections":[`...)
		for i, d := range a.Detections {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, d.ID)
			b = append(b, `,"title":`...)
			b = appendString(b, d.Title)
			b = appendOpt(b, "severity", string(d.Severity))
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if p := a.Permission; p != nil {
		b = append(b, `,"permission":{`...)
		first := true
		b, first = appendMember(b, first, "action", p.Action)
		b, first = appendMember(b, first, "resource", p.Resource)
		b, first = appendMember(b, first, "reason", p.Reason)
		b, first = appendMember(b, first, "reasonText", p.ReasonText)
		if p.Guardrail {
			b, first = appendBool(b, first, "guardrail", true)
		}
		if p.Fixable {
			b, first = appendBool(b, first, "fixable", true)
		}
		if p.Encoded {
			b, first = appendBool(b, first, "encoded", true)
		}
		if len(p.Statement) > 0 {
			if !first {
				b = append(b, ',')
			}
			b = append(b, `"statement":`...)
			b = append(b, p.Statement...)
		}
		b = append(b, '}')
	}
	if o := a.Origin; o != nil {
		b = append(b, `,"origin":{`...)
		first := true
		b, first = appendMember(b, first, "logGroup", o.LogGroup)
		b, first = appendMember(b, first, "logStream", o.LogStream)
		if len(o.SubscriptionFilters) > 0 {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendStrings(b, "subscriptionFilters", o.SubscriptionFilters)
		}
		b, first = appendMember(b, first, "owner", o.Owner)
		b, _ = appendMember(b, first, "logEventId", o.LogEventID)
		b = append(b, '}')
	}
	if len(a.Detail) > 0 {
		b = append(b, `,"detail":`...)
		b = append(b, a.Detail...)
	}
	if a.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	return append(b, '}'), true
}

// appendOpt appends `,"key":value` unless value is empty.
func appendOpt(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendMember appends an omitempty string member inside an object whose
// first member may still be pending; it returns the new "first" state.
func appendMember(b []byte, first bool, key, value string) ([]byte, bool) {
	if value == "" {
		return b, first
	}
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value), false
}

func appendBool(b []byte, first bool, key string, v bool) ([]byte, bool) {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v), false
}

// appendFields appends two omitempty string members.
func appendFields(b []byte, first bool, k1, v1, k2, v2 string) []byte {
	b, first = appendMember(b, first, k1, v1)
	b, _ = appendMember(b, first, k2, v2)
	return b
}

// appendStrings appends `,"key":[...]` (or `"key":[...]` after an opening
// brace the caller wrote) unless list is empty.
func appendStrings(b []byte, key string, list []string) []byte {
	if len(list) == 0 {
		return b
	}
	if b[len(b)-1] != ',' && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does
// without HTML escaping: short escapes for \b \f \n \r \t, \u00XX for other
// control bytes, U+FFFD for invalid UTF-8, and \u2028 \u2029 escaped.
func appendString[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip plain ASCII eight bytes at a time: most text needs no escape.
		for i+8 <= len(s) {
			w := s[i : i+8] // one bounds check; the compiler merges the loads
			m := escapeMask(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56)
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeRune is utf8.DecodeRune of a string or a byte slice.
func decodeRune[S string | []byte](s S) (rune, int) {
	if b, ok := any(s).([]byte); ok {
		return utf8.DecodeRune(b)
	}
	return utf8.DecodeRuneInString(string(s))
}

// escapeMask marks, in the high bit of each byte, the bytes of x (eight
// bytes of text, little-endian) that appendString must look at: a quote, a
// backslash, a control byte or a byte that is not ASCII. Only the lowest mark
// is exact (borrows may mark bytes above it), which is all appendString uses.
func escapeMask(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ ('"' * ones)
	bs := x ^ ('\\' * ones)
	return ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x | x) & highs
}

// compactJSON reports whether raw is strictly valid JSON (RFC 8259, as
// encoding/json checks it) with no whitespace outside strings, so that
// encoding/json's compaction would copy it unchanged.
func compactJSON(raw json.RawMessage) bool {
	valid, compact := jsonscan.Check(raw)
	return valid && compact
}
