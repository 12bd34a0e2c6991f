package jsonscan

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
)

// DecodeLogsData decodes data, a CloudWatch Logs subscription batch, into d
// exactly as encoding/json would, when data has the shape CloudWatch Logs
// writes: one object of the six members of events.CloudwatchLogsData, each
// at most once and spelled as its tag, log events of the three members of
// events.CloudwatchLogsLogEvent, strings and integers only (no null), and
// strings that are valid UTF-8 without a lone surrogate escape. For anything
// else, valid or not, it reports false with d zero, and the caller decodes
// data with a full decoder.
//
// It is a fast path for the largest part of the source's work, unescaping
// the messages (CloudTrail records, JSON text inside JSON strings): every
// string is unescaped into one block allocated for the batch, eight bytes
// at a time, and the strings of d point into it.
//
// It also returns, for each log event in turn, Check's answer for its
// message when the message is plain: its quotes, each the escape \" in the
// batch, are then exactly where its strings start and end, so the check
// skips them at once instead of reading them again.
//
// With m, it decodes into m's memory, allocating only what m lacks, and keeps
// what it allocated there for the next batch: the strings, log events and
// verdicts of the batch m last decoded are overwritten.
func DecodeLogsData(data []byte, d *events.CloudwatchLogsData, m *Buffers) (Verdicts, bool) {
	if m == nil {
		m = new(Buffers)
	}
	// Unescaped, a string is never longer than its JSON text; the eight
	// spare bytes let the unescaper store a whole word past the end.
	if cap(m.out) < len(data)+8 {
		m.out = make([]byte, 0, len(data)+8)
	}
	r := logsReader{b: data, out: m.out[:0], quotes: m.quotes[:0]}
	*d = events.CloudwatchLogsData{}
	verdicts := m.verdicts[:0]
	ok := r.object(func(key string) bool {
		switch key {
		case "messageType":
			return r.str(&d.MessageType)
		case "owner":
			return r.str(&d.Owner)
		case "logGroup":
			return r.str(&d.LogGroup)
		case "logStream":
			return r.str(&d.LogStream)
		case "subscriptionFilters":
			d.SubscriptionFilters = []string{}
			return r.array(func() bool {
				d.SubscriptionFilters = append(d.SubscriptionFilters, "")
				return r.str(&d.SubscriptionFilters[len(d.SubscriptionFilters)-1])
			})
		case "logEvents":
			if d.LogEvents = m.events[:0]; d.LogEvents == nil {
				d.LogEvents = []events.CloudwatchLogsLogEvent{} // empty, not nil
			}
			return r.array(func() bool {
				d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{})
				verdicts = append(verdicts, Verdict{})
				return r.logEvent(&d.LogEvents[len(d.LogEvents)-1], &verdicts[len(verdicts)-1])
			})
		}
		return false
	})
	m.events, m.verdicts, m.quotes = d.LogEvents, verdicts, r.quotes
	if r.space(); !ok || r.i != len(r.b) {
		*d = events.CloudwatchLogsData{}
		return nil, false
	}
	return verdicts, true
}

// Buffers is memory DecodeLogsData decodes batch after batch into. Its zero
// value is ready; it is not for concurrent use.
type Buffers struct {
	out      []byte
	quotes   []int32
	events   []events.CloudwatchLogsLogEvent
	verdicts Verdicts
}

// Cap is the number of bytes b holds for strings.
func (b *Buffers) Cap() int { return cap(b.out) }

// Verdict is Check's answer for a log event's message, when Known.
type Verdict struct{ Known, Valid, Compact bool }

// Check returns v's answer when it is known, else Check's for text.
func (v Verdict) Check(text []byte) (valid, compact bool) {
	if v.Known {
		return v.Valid, v.Compact
	}
	return Check(text)
}

// Verdicts are the verdicts of a batch's log events, in order.
type Verdicts []Verdict

// At is the verdict of log event i, unknown when there is none.
func (vs Verdicts) At(i int) Verdict {
	if i < len(vs) {
		return vs[i]
	}
	return Verdict{}
}

// logsReader reads a batch: b from offset i, strings unescaped into out.
// Of the last string read, plain tells whether it has no backslash or
// control byte once unescaped, and quotes where its quotes are.
type logsReader struct {
	b      []byte
	i      int
	out    []byte
	plain  bool
	quotes []int32
}

// logEvent reads one log event, and Check's answer for its message when the
// message is plain.
func (r *logsReader) logEvent(e *events.CloudwatchLogsLogEvent, v *Verdict) bool {
	return r.object(func(key string) bool {
		switch key {
		case "id":
			return r.str(&e.ID)
		case "timestamp":
			return r.int64(&e.Timestamp)
		case "message":
			if !r.str(&e.Message) {
				return false
			}
			if r.plain {
				// The message is the end of r.out, where str unescaped it.
				valid, compact, undecided := scan(r.out[len(r.out)-len(e.Message):], r.quotes, true)
				*v = Verdict{Known: !undecided, Valid: valid, Compact: compact}
			}
			return true
		}
		return false
	})
}

// space skips JSON whitespace.
func (r *logsReader) space() {
	for r.i < len(r.b) && (r.b[r.i] == ' ' || r.b[r.i] == '\n' || r.b[r.i] == '\r' || r.b[r.i] == '\t') {
		r.i++
	}
}

// next skips whitespace and takes c if it comes next.
func (r *logsReader) next(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// object reads an object, calling member after each name and its colon; a
// name with an escape, and a name that occurs twice, are declined.
func (r *logsReader) object(member func(key string) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	var seen [8]string // more members than that are declined
	for n := 0; ; n++ {
		if !r.next('"') {
			return false
		}
		start := r.i
		for r.i < len(r.b) && r.b[r.i] != '"' && r.b[r.i] != '\\' && r.b[r.i] >= 0x20 {
			r.i++
		}
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return false
		}
		key := unsafe.String(unsafe.SliceData(r.b[start:]), r.i-start) // compared only
		r.i++
		if n == len(seen) || slices.Contains(seen[:n], key) || !r.next(':') || !member(key) {
			return false
		}
		seen[n] = key
		if r.next('}') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element.
func (r *logsReader) array(elem func() bool) bool {
	if !r.next('[') {
		return false
	}
	if r.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if r.next(']') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// int64 reads an integer that encoding/json decodes into an int64: no
// fraction, no exponent, in range.
func (r *logsReader) int64(v *int64) bool {
	r.space()
	neg := r.i < len(r.b) && r.b[r.i] == '-'
	if neg {
		r.i++
	}
	start := r.i
	var n uint64
	for ; r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9'; r.i++ {
		if n > (math.MaxInt64+1)/10 {
			return false
		}
		n = n*10 + uint64(r.b[r.i]-'0')
	}
	digits := r.i - start
	if digits == 0 || digits > 1 && r.b[start] == '0' || n > math.MaxInt64+1 || !neg && n > math.MaxInt64 {
		return false
	}
	if r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		return false
	}
	*v = int64(n)
	if neg {
		*v = -*v
	}
	return true
}

// str reads a string into *s, unescaped into r.out.
func (r *logsReader) str(s *string) bool {
	if !r.next('"') {
		return false
	}
	b, out := r.b, r.out
	start, ascii := len(out), true
	r.plain, r.quotes = true, r.quotes[:0]
	i, j := r.i, len(out)
	dst := out[:cap(out)]
	for {
		// Eight bytes at a time to the first quote, backslash, control
		// byte or byte above 0x7F, each word stored ahead as it is (dst
		// has eight spare bytes). Above the lowest byte the SWAR test
		// marks, its marks may be false, so only the lowest is used.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			binary.LittleEndian.PutUint64(dst[j:], x)
			q, bs := x^('"'*ones), x^('\\'*ones)
			if m := ((q-ones)&^q | (bs-ones)&^bs | (x - 0x20*ones) | x) & highs; m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				i, j = i+k, j+k
				break
			}
			i, j = i+8, j+8
		}
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			r.i, r.out = i+1, dst[:j]
			if !ascii && !utf8.Valid(dst[start:j]) {
				return false // encoding/json writes U+FFFD for each bad byte
			}
			*s = unsafe.String(unsafe.SliceData(dst[start:]), j-start)
			return true
		case c == '\\':
			if i+1 < len(b) && simple[b[i+1]] != 0 {
				e := simple[b[i+1]]
				if e == '"' {
					r.quotes = append(r.quotes, int32(j-start))
				} else if e == '\\' || e < 0x20 {
					r.plain = false
				}
				dst[j] = e
				i, j = i+2, j+1
				break
			}
			n, rn := unescape(b, i)
			if n == 0 {
				return false
			}
			if rn < 0x20 || rn == '"' || rn == '\\' {
				r.plain = false
			}
			if rn < utf8.RuneSelf {
				dst[j] = byte(rn)
				j++
			} else {
				j += utf8.EncodeRune(dst[j:], rn)
			}
			i += n
		case c < 0x20:
			return false
		default:
			ascii = false
			dst[j] = c
			i, j = i+1, j+1
		}
	}
}

// unescape reads the \u escape at b[i]: its length (6, or 12 for a
// surrogate pair) and the rune it stands for, or 0 when it is not valid or is
// a lone surrogate (which encoding/json reads as U+FFFD).
func unescape(b []byte, i int) (int, rune) {
	if i+1 >= len(b) || b[i+1] != 'u' {
		return 0, 0
	}
	r1, ok := hex4(b, i+2)
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r1) {
		return 6, r1
	}
	if rn, ok := pair(b, i, r1); ok {
		return 12, rn
	}
	return 0, 0
}
