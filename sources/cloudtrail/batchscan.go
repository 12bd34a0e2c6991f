package cloudtrail

import "github.com/activity-aware/ids/internal/jsonscan"

// scannedEvent is one log event of a scanned batch: its id and message as
// offsets into scratch.ids and scratch.msgs.
type scannedEvent struct {
	idStart, idEnd   int
	msgStart, msgEnd int
	timestamp        int64
}

// scannedBatch is what scanBatch read besides the log events.
type scannedBatch struct {
	origin batchOrigin
}

// batchScanner reads one subscription batch document.
type batchScanner struct {
	b  []byte
	i  int
	sc *scratch
}

// scanBatch reads a DATA_MESSAGE batch in the shape CloudWatch Logs writes it
// ({"messageType","owner","logGroup","logStream","subscriptionFilters",
// "policyLevel","logEvents":[{"id","timestamp","message"}]}, in any order) in
// one pass, unescaping every message into a new sc.msgs and every id into
// sc.ids,
// and the events into sc.events. The batch JSON is about 1 MB of escaped
// record text, so this pass, instead of a general parse followed by one
// unescape per message, is a large part of the source's speed.
//
// It reports false as soon as the document strays from that shape in any way
// (another message type, an unknown or repeated member, a value of another
// type, a number that is not an integer, a control byte, an invalid escape,
// an unpaired surrogate, invalid JSON): the caller then reads it with the
// general parser, which decides what it is. So for every document scanBatch
// accepts, the general path would produce the same activities.
func (sc *scratch) scanBatch(data []byte) (scannedBatch, bool) {
	// The messages are unescaped into a new buffer each time: the batch's
	// activities keep their records (Detail) in it. Unescaping only shrinks,
	// so they fit in len(data).
	sc.msgs = make([]byte, 0, len(data))
	sc.ids, sc.events = sc.ids[:0], sc.events[:0]
	p := batchScanner{b: data, sc: sc}
	var out scannedBatch
	var messageType, policyLevel string
	// The batch's string members, and whether each member was seen.
	strs := [...]struct {
		name string
		dst  *string
	}{
		{"messageType", &messageType}, {"owner", &out.origin.owner}, {"logGroup", &out.origin.logGroup},
		{"logStream", &out.origin.logStream}, {"policyLevel", &policyLevel},
	}
	var seenStr [len(strs)]bool
	var seenFilters, seenEvents bool
	if !p.ws('{') {
		return out, false
	}
	for first := true; ; first = false {
		if p.peek() == '}' && first {
			break
		}
		key, ok := p.key()
		if !ok {
			return out, false
		}
		switch string(key) {
		case "subscriptionFilters":
			if seenFilters {
				return out, false
			}
			seenFilters = true
			if out.origin.filters, ok = p.stringArray(); !ok {
				return out, false
			}
		case "logEvents":
			if seenEvents || !p.logEvents() {
				return out, false
			}
			seenEvents = true
		default:
			i := 0
			for i < len(strs) && strs[i].name != string(key) {
				i++
			}
			if i == len(strs) || seenStr[i] {
				return out, false
			}
			seenStr[i] = true
			if *strs[i].dst, ok = p.smallString(); !ok {
				return out, false
			}
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		if !p.ws('}') {
			return out, false
		}
		break
	}
	p.skipWS()
	return out, p.i == len(p.b) && messageType == dataMessage && seenEvents
}

func (p *batchScanner) skipWS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (p *batchScanner) peek() byte {
	p.skipWS()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// ws consumes c after optional whitespace.
func (p *batchScanner) ws(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// key reads a member name and its colon. CloudWatch Logs writes its member
// names plainly; one with an escape is left to the general parser.
func (p *batchScanner) key() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	start := p.i + 1
	end := start
	for end < len(p.b) && plainStringByte[p.b[end]] {
		end++
	}
	if end >= len(p.b) || p.b[end] != '"' {
		return nil, false
	}
	p.i = end + 1
	if !p.ws(':') {
		return nil, false
	}
	return p.b[start:end], true
}

// smallString reads a string value of the batch header.
func (p *batchScanner) smallString() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	var buf [128]byte
	s, ok := p.appendString(buf[:0])
	return string(s), ok
}

func (p *batchScanner) stringArray() ([]string, bool) {
	if !p.ws('[') {
		return nil, false
	}
	var out []string
	if p.peek() == ']' {
		p.i++
		return out, true
	}
	for {
		s, ok := p.smallString()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

func (p *batchScanner) logEvents() bool {
	if !p.ws('[') {
		return false
	}
	if p.peek() == ']' {
		p.i++
		return true
	}
	for {
		if !p.logEvent() {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return true
		default:
			return false
		}
	}
}

func (p *batchScanner) logEvent() bool {
	sc := p.sc
	if !p.ws('{') {
		return false
	}
	ev := scannedEvent{idStart: len(sc.ids), idEnd: len(sc.ids), msgStart: len(sc.msgs)}
	var seenID, seenTime, seenMsg bool
	if p.peek() == '}' {
		return false // no message
	}
	for {
		key, ok := p.key()
		if !ok || p.peek() == 0 {
			return false
		}
		switch {
		case string(key) == "id" && !seenID && p.b[p.i] == '"':
			seenID = true
			if sc.ids, ok = p.appendString(sc.ids); !ok {
				return false
			}
			ev.idEnd = len(sc.ids)
		case string(key) == "timestamp" && !seenTime:
			seenTime = true
			if ev.timestamp, ok = p.integer(); !ok {
				return false
			}
		case string(key) == "message" && !seenMsg && p.b[p.i] == '"':
			seenMsg = true
			if sc.msgs, ok = p.appendString(sc.msgs); !ok {
				return false
			}
			ev.msgEnd = len(sc.msgs)
		default:
			return false
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		if !p.ws('}') || !seenMsg {
			return false
		}
		sc.events = append(sc.events, ev)
		return true
	}
}

// integer reads an integer of at most 18 digits, as a JSON number without
// fraction or exponent.
func (p *batchScanner) integer() (int64, bool) {
	neg := p.i < len(p.b) && p.b[p.i] == '-'
	if neg {
		p.i++
	}
	start := p.i
	var n int64
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		n = n*10 + int64(p.b[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 18 || (digits > 1 && p.b[start] == '0') {
		return 0, false
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// plainStringByte marks the bytes that stand for themselves inside a JSON
// string: not a quote, a backslash or a control byte.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString unescapes the JSON string starting at p.b[p.i] (a quote)
// onto dst and moves past it. It refuses control bytes, invalid escapes and
// unpaired surrogates.
func (p *batchScanner) appendString(dst []byte) ([]byte, bool) {
	dst, next, ok := jsonscan.AppendString(dst, p.b, p.i)
	p.i = next
	return dst, ok
}
