// Package logfile reads CloudTrail and CloudWatch Logs data from files, as
// people save it: CloudWatch Logs subscription events ({"awslogs":{"data":…}}),
// their decoded form ({"messageType":…,"logEvents":[…]}), CloudTrail log files
// ({"Records":[…]}), single CloudTrail records, and newline-delimited streams
// of any of these. Files may be gzip-compressed; directories are walked
// recursively in lexical order.
//
// A file that cannot be read or decoded is reported and the rest is still
// read, so one bad file never hides the others.
package logfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/internal/jsonscan"
)

// ErrUnreadable reports input that is neither one JSON document nor a stream
// of JSON documents, one per line.
var ErrUnreadable = errors.New("logfile: not JSON data")

// MaxFileSize bounds how much of one (decompressed) file is read.
const MaxFileSize = 512 << 20

// DataExtensions are the file name endings read when walking a directory.
var DataExtensions = []string{".json", ".jsonl", ".ndjson", ".log", ".txt", ".gz"}

func isDataFile(name string) bool {
	name = strings.ToLower(name)
	for _, ext := range DataExtensions {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// Kind says what an Item holds.
type Kind int

// The kinds of Item.
const (
	// Subscription is a CloudWatch Logs subscription event, still encoded.
	Subscription Kind = iota + 1
	// LogsData is a decoded CloudWatch Logs subscription batch.
	LogsData
	// Record is one JSON document that is not a container: normally a
	// CloudTrail record (the source decides what it is).
	Record
	// Text is a line that is not JSON (only with Options.Text).
	Text
)

// Item is one unit of input.
type Item struct {
	// Path is the file it came from; Line is its 1-based line for
	// newline-delimited input, 0 for a whole-file document.
	Path string
	Line int
	Kind Kind
	// Subscription is set for Kind Subscription.
	Subscription *events.CloudwatchLogsEvent
	// LogsData is set for Kind LogsData.
	LogsData *events.CloudwatchLogsData
	// Raw is the record's JSON (Kind Record) or the line (Kind Text).
	Raw []byte
	// Compact is set for a Record whose document jsonscan.Check found valid
	// and compact: Raw is too.
	Compact bool
}

// Options tune reading.
type Options struct {
	// Text makes lines that are not JSON into Text items instead of errors,
	// for reading arbitrary log files.
	Text bool
}

// Stats counts what was read.
type Stats struct {
	Files int
	Items int
}

// FileError is a file, or a line in it, that could not be read or decoded.
type FileError struct {
	Path string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Read reads every path (files or directories) and calls visit for each item,
// in order. A visit error stops reading and is returned as stop. Input that
// could not be read or decoded is returned in errs, one per file or line;
// everything else is still visited.
func Read(paths []string, opts Options, visit func(Item) error) (stats Stats, errs []error, stop error) {
	for _, root := range paths {
		files, err := expand(root)
		if err != nil {
			errs = append(errs, &FileError{Path: root, Err: err})
			continue
		}
		for _, path := range files {
			stats.Files++
			data, err := readFile(path)
			if err != nil {
				errs = append(errs, &FileError{Path: path, Err: err})
				continue
			}
			n, ferrs, stop := Decode(path, data, opts, visit)
			stats.Items += n
			errs = append(errs, ferrs...)
			if stop != nil {
				return stats, errs, stop
			}
		}
	}
	return stats, errs, nil
}

// Decode splits one file's content into items: one JSON document, or one JSON
// document (or text line, with Options.Text) per line.
func Decode(path string, data []byte, opts Options, visit func(Item) error) (n int, errs []error, stop error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return 0, nil, nil
	}
	if valid, compact := jsonscan.Check(trimmed); valid {
		n, err := emit(Item{Path: path}, trimmed, compact, visit)
		return n, nil, err
	}
	type line struct {
		no             int
		text           []byte
		valid, compact bool
	}
	var lines []line
	no := 0
	for text := range bytes.Lines(data) {
		no++
		if text = bytes.TrimSpace(text); len(text) > 0 {
			l := line{no: no, text: text}
			l.valid, l.compact = jsonscan.Check(text)
			lines = append(lines, l)
		}
	}
	if !opts.Text && !lines[0].valid {
		// Not newline-delimited JSON: the file is one broken document, and
		// nothing in it is trusted.
		return 0, []error{&FileError{Path: path, Err: fmt.Errorf("%w: %s", ErrUnreadable, syntaxError(trimmed))}}, nil
	}
	for _, l := range lines {
		switch {
		case l.valid:
			k, err := emit(Item{Path: path, Line: l.no}, l.text, l.compact, visit)
			n += k
			if err != nil {
				return n, errs, err
			}
		case opts.Text:
			n++
			if err := visit(Item{Path: path, Line: l.no, Kind: Text, Raw: l.text}); err != nil {
				return n, errs, err
			}
		default:
			errs = append(errs, &FileError{Path: path, Line: l.no, Err: fmt.Errorf("%w: invalid JSON line", ErrUnreadable)})
		}
	}
	return n, errs, nil
}

// syntaxError describes where a JSON document breaks.
func syntaxError(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("invalid JSON at line %d (byte %d): %v", line, se.Offset, se)
	}
	if err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// probe is what emit reads of a document to tell what it holds.
type probe struct {
	AWSLogs     *json.RawMessage  `json:"awslogs"`
	Records     []json.RawMessage `json:"Records"`
	MessageType *string           `json:"messageType"`
	LogEvents   *json.RawMessage  `json:"logEvents"`
}

// emit classifies one JSON document and visits what it holds, marking its
// records Compact when the document is.
func emit(base Item, doc []byte, compact bool, visit func(Item) error) (int, error) {
	if data, ok := subscriptionData(doc); ok {
		// The common case, without encoding/json's passes over a megabyte
		// of base64.
		base.Kind = Subscription
		base.Subscription = &events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: string(data)}}
		return 1, visit(base)
	}
	var probe probe
	// goccy/go-json finds the members in one pass where encoding/json takes
	// two (doc is valid: emit's callers checked it); FuzzProbe holds it to
	// encoding/json.
	if doc[0] != '{' || gojson.Unmarshal(doc, &probe) != nil {
		base.Kind, base.Raw, base.Compact = Record, doc, compact
		return 1, visit(base)
	}
	switch {
	case probe.AWSLogs != nil:
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(doc, &ev); err == nil && ev.AWSLogs.Data != "" {
			base.Kind = Subscription
			base.Subscription = &ev
			return 1, visit(base)
		}
	case probe.Records != nil:
		for _, r := range probe.Records {
			it := base
			it.Kind, it.Raw, it.Compact = Record, r, compact
			if err := visit(it); err != nil {
				return 0, err
			}
		}
		return len(probe.Records), nil
	case probe.MessageType != nil && probe.LogEvents != nil:
		var d events.CloudwatchLogsData
		if err := json.Unmarshal(doc, &d); err == nil {
			base.Kind = LogsData
			base.LogsData = &d
			return 1, visit(base)
		}
	}
	base.Kind, base.Raw, base.Compact = Record, doc, compact
	return 1, visit(base)
}

// subscriptionData returns awslogs.data of a subscription event in the plain
// shape CloudWatch Logs writes, {"awslogs":{"data":"…"}} with no other
// member; anything else is left to encoding/json. doc is valid JSON (emit's
// callers checked it).
func subscriptionData(doc []byte) ([]byte, bool) {
	const head, tail = `{"awslogs":{"data":"`, `"}}`
	if bytes.HasPrefix(doc, []byte(head)) && bytes.HasSuffix(doc, []byte(tail)) {
		// Compact, as CloudWatch Logs writes it: read without a parser.
		data := doc[len(head) : len(doc)-len(tail)]
		if bytes.IndexByte(data, '"') < 0 && bytes.IndexByte(data, '\\') < 0 {
			return data, true
		}
	}
	if doc[0] != '{' || !bytes.HasPrefix(bytes.TrimLeft(doc[1:], " \t\r\n"), []byte(`"awslogs"`)) {
		return nil, false // another shape, or the key escaped: emit's probe reads it
	}
	v, err := fastjson.ParseBytes(doc)
	if err != nil || v.Type() != fastjson.TypeObject || v.GetObject().Len() != 1 {
		return nil, false
	}
	logs := v.Get("awslogs")
	if logs == nil || logs.Type() != fastjson.TypeObject || logs.GetObject().Len() != 1 {
		return nil, false
	}
	data := logs.Get("data")
	if data == nil || data.Type() != fastjson.TypeString {
		return nil, false
	}
	return data.GetStringBytes(), true
}

// expand lists the files under root (root itself when it is a file), sorted.
func expand(root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || !d.Type().IsRegular() || !isDataFile(d.Name()) {
			return nil
		}
		files = append(files, path)
		return nil
	})
	sort.Strings(files)
	return files, err
}

// gzipSize is the size a gzip file of size bytes inflates to as its trailer
// gives it (ISIZE: modulo 4 GiB, of the last member only), for room to read
// it into: a guess, 0 when the trailer claims more than 64 times the file
// (JSON inflates about 10 to 20 times), so that a crafted trailer cannot make
// room for what is not there. It reads at the end of f without moving f's
// offset.
func gzipSize(f *os.File, size int64) int64 {
	var trailer [4]byte
	if size < 18 {
		return 0
	}
	if _, err := f.ReadAt(trailer[:], size-4); err != nil {
		return 0
	}
	if isize := int64(binary.LittleEndian.Uint32(trailer[:])); isize <= 64*size {
		return isize
	}
	return 0
}

// readFile reads a file, inflating it when it is gzip-compressed (by content,
// not by name).
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	magic, _ := br.Peek(2)
	gzipped := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if gzipped {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("logfile: gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	var room []byte
	if info, err := f.Stat(); err == nil {
		size := info.Size()
		if gzipped {
			size = gzipSize(f, size)
		}
		// make, unlike bytes.Buffer.Grow, leaves memory fresh from the
		// system as it is (zero) instead of clearing it once more.
		room = make([]byte, 0, min(size, MaxFileSize)+bytes.MinRead)
	}
	buf := bytes.NewBuffer(room)
	_, err = buf.ReadFrom(io.LimitReader(r, MaxFileSize+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("logfile: read: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("logfile: larger than %d bytes", MaxFileSize)
	}
	return data, nil
}
