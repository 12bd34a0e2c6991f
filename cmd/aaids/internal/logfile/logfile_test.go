package logfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

const record = `{"eventVersion":"1.08","eventName":"GetPolicy","eventSource":"iam.amazonaws.com","errorCode":"AccessDenied"}`

type seen struct {
	kinds []Kind
	where []string
}

func (s *seen) visit(it Item) error {
	s.kinds = append(s.kinds, it.Kind)
	s.where = append(s.where, filepath.Base(it.Path))
	return nil
}

func TestRead(t *testing.T) {
	logsData := `{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"id":"1","timestamp":1,"message":"x"}]}`
	sub := string(subscriptiontest.Payload([]byte(logsData)))
	files := map[string][]byte{
		"a-record.json":          []byte("{\n  \"eventVersion\": \"1.08\",\n  \"eventName\": \"GetPolicy\"\n}\n"),
		"b-trail.json.gz":        subscriptiontest.Gzip([]byte(`{"Records":[` + record + `,` + record + `,` + record + `]}`)),
		"c-subscription.json":    []byte(sub),
		"d-decoded.json":         []byte(logsData),
		"e-stream.ndjson":        []byte(record + "\n\n" + sub + "\n" + record + "\n"),
		"nested/f-other.json":    []byte(`{"hello":"world"}`),
		".hidden/ignored.json":   []byte(record),
		"g-broken-ndjson.ndjson": []byte(record + "\nnot json\n" + record + "\n"),
		"h-concatenated.json":    []byte("{\n  \"Records\": [\n    {\"a\": 1}\n    {\"b\": 2}\n  ]\n}\n"),
		"i-empty.json":           nil,
		"README.md":              []byte("# not data"),
		"tool.go":                []byte("package tool"),
	}
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var s seen
	stats, errs, stop := Read([]string{dir, filepath.Join(dir, "missing.json")}, Options{}, s.visit)
	if stop != nil {
		t.Fatal(stop)
	}
	want := []Kind{Record, Record, Record, Record, Subscription, LogsData, Record, Subscription, Record, Record, Record, Record}
	if len(s.kinds) != len(want) {
		t.Fatalf("visited %v from %v, want kinds %v", s.kinds, s.where, want)
	}
	for i := range want {
		if s.kinds[i] != want[i] {
			t.Fatalf("item %d (%s) kind %v, want %v", i, s.where[i], s.kinds[i], want[i])
		}
	}
	if stats.Files != 9 || stats.Items != len(want) {
		t.Fatalf("stats = %+v", stats)
	}
	// missing.json, the bad NDJSON line, and the concatenated document.
	if len(errs) != 3 {
		t.Fatalf("errors = %v, want 3", errs)
	}
	var joined []string
	for _, err := range errs {
		joined = append(joined, err.Error())
	}
	all := strings.Join(joined, "\n")
	for _, want := range []string{"missing.json", "g-broken-ndjson.ndjson:2", "h-concatenated.json: logfile: not JSON data: invalid JSON at line 4"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors %q do not mention %q", all, want)
		}
	}
	var fe *FileError
	if !errors.As(errs[1], &fe) {
		t.Errorf("error %v is not a *FileError", errs[1])
	}
}

func TestReadText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(p, []byte("ERROR disk full\n"+record+"\nINFO fine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var s seen
	_, errs, _ := Read([]string{p}, Options{Text: true}, s.visit)
	if len(errs) != 0 || len(s.kinds) != 3 || s.kinds[0] != Text || s.kinds[1] != Record || s.kinds[2] != Text {
		t.Fatalf("kinds %v errs %v", s.kinds, errs)
	}
}

// TestReadCompact checks Item.Compact: set for the records of a compact
// document or line, never for one with whitespace outside its strings, nor
// for a subscription event.
func TestReadCompact(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a-compact.json": `{"Records":[` + record + `,` + record + `]}`,
		"b-spaced.json":  `{"Records": [` + record + `]}`,
		"c-lines.ndjson": record + "\n" + `{"eventName": "A"}` + "\n" + `{"awslogs":{"data":"H4sI"}}`,
		"d-one.json":     record,
		"e-one-sp.json":  "{ \"eventName\":\"A\"}",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	_, errs, _ := Read([]string{dir}, Options{}, func(it Item) error {
		got = append(got, fmt.Sprintf("%s:%d %v", filepath.Base(it.Path), it.Kind, it.Compact))
		return nil
	})
	want := []string{
		fmt.Sprintf("a-compact.json:%d true", Record), fmt.Sprintf("a-compact.json:%d true", Record),
		fmt.Sprintf("b-spaced.json:%d false", Record),
		fmt.Sprintf("c-lines.ndjson:%d true", Record), fmt.Sprintf("c-lines.ndjson:%d false", Record), fmt.Sprintf("c-lines.ndjson:%d false", Subscription),
		fmt.Sprintf("d-one.json:%d true", Record),
		fmt.Sprintf("e-one-sp.json:%d false", Record),
	}
	if len(errs) != 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("items %q, errs %v; want %q", got, errs, want)
	}
}

func TestReadStopsOnVisitError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "trail.json")
	if err := os.WriteFile(p, []byte(`{"Records":[`+record+`,`+record+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, _, stop := Read([]string{p}, Options{}, func(Item) error { return boom })
	if !errors.Is(stop, boom) {
		t.Fatalf("stop = %v, want boom", stop)
	}
}

func TestSharedMalformedFixture(t *testing.T) {
	p := filepath.Join(sharedfixtures.Dir(t, "fixtures", "malformed"), "concatenated-objects.json")
	var s seen
	_, errs, _ := Read([]string{p}, Options{}, s.visit)
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnreadable) || len(s.kinds) != 0 {
		t.Fatalf("want one ErrUnreadable and nothing visited, got %v, %v", errs, s.kinds)
	}
}

// TestSubscriptionForms: a subscription event's data is what encoding/json
// reads, in the plain form CloudWatch Logs writes (read without
// encoding/json) and in any other: with white space, escapes or other
// members.
func TestSubscriptionForms(t *testing.T) {
	data := subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[]}`))
	if !strings.HasPrefix(data, "H4sI") {
		t.Fatalf("gzip base64 %q does not start with H4sI", data)
	}
	for _, doc := range []string{
		`{"awslogs":{"data":"` + data + `"}}`,
		`{"awslogs": {"data": "` + data + `"}}`,
		"{ \"awslogs\" : {\n\"data\": \"" + data + "\" } }",
		`{"awslogs":{"data":"\u0048` + data[1:] + `"}}`,
		`{"awslogs":{"data":"` + strings.ReplaceAll(data, "4", `\u0034`) + `"}}`,
		`{"awslogs":{"data":"` + data + `","x":1}}`,
		`{"x":"\"}}","awslogs":{"data":"` + data + `"}}`,
		`{"\u0061wslogs":{"data":"` + data + `"}}`,
		`{"awslogs":{"data":"` + data + `","x":"y"}}`,
		`{"AWSLogs":{"Data":"` + data + `"}}`,
		`{"awslogs":{"data":"` + strings.Replace(data, "/", `\/`, 1) + `"}}`,
		"\n" + `{"awslogs":{"data":"` + data + `"}}` + " \n",
	} {
		var got []Item
		n, errs, _ := Decode("f.json", []byte(doc), Options{}, func(it Item) error { got = append(got, it); return nil })
		if n != 1 || len(errs) != 0 || got[0].Kind != Subscription || got[0].Subscription.AWSLogs.Data != data {
			t.Errorf("%.60s…: %d items %+v, errors %v; want one subscription with data %.20s…", doc, n, got, errs, data)
		}
	}
}

// FuzzProbe holds emit's probe, decoded by goccy/go-json, to encoding/json
// on valid documents: the same error or none, the same members.
func FuzzProbe(f *testing.F) {
	for _, seed := range []string{
		`{"Records":[` + record + `,{"a":1},[],"x",null]}`,
		`{"records":[{}],"RECORDS":[1,2]}`,
		`{"Records":null}`, `{"Records":{}}`, `{"Records":[]}`,
		`{"awslogs":{"data":"H4sI"},"Records":[1]}`,
		`{"messageType":"DATA_MESSAGE","logEvents":[],"messagetype":null}`,
		`{"messageType":7,"logEvents":[]}`,
		`{"R\u0065cords":[{"\u00e9":"\ud83d\ude00"}]}`,
		`{"Records":["\u2028", 1e400]}`,
		"{\"Records\":[\"\xff\"]}",
		`{"eventVersion":"1.08","eventName":"GetPolicy"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		var got, want probe
		gerr, werr := gojson.Unmarshal(doc, &got), json.Unmarshal(doc, &want)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: goccy error %v, encoding/json error %v", doc, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: goccy %+v, encoding/json %+v", doc, got, want)
		}
	})
}

// TestReadGzip: a gzip file is read whole whatever its trailer says: room is
// made for the size the trailer gives, unless it claims more than 64 times
// the file; a file of several members (whose trailer gives only the last
// one's size) grows its room as needed.
func TestReadGzip(t *testing.T) {
	// Records that differ, which inflate about as much as real ones.
	var records []string
	for i := range 2000 {
		sum := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		records = append(records, fmt.Sprintf(`{"eventID":"%x","eventName":"GetObject","requestParameters":{"key":"%x"}}`, sum[:16], sum[16:]))
	}
	trail := []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
	one := subscriptiontest.Gzip(trail)
	two := append(subscriptiontest.Gzip(trail[:100]), subscriptiontest.Gzip(trail[100:])...)
	crafted := bytes.Clone(one)
	binary.LittleEndian.PutUint32(crafted[len(crafted)-4:], 1<<31) // and its CRC no longer matches
	dir := t.TempDir()
	for name, data := range map[string][]byte{"one.json.gz": one, "two.json.gz": two, "crafted.json.gz": crafted} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		size := gzipSize(f, int64(len(data)))
		f.Close()
		got, err := readFile(path)
		switch name {
		case "one.json.gz":
			// Read into the room made for it, not into a buffer grown twice
			// over.
			if size != int64(len(trail)) || err != nil || !bytes.Equal(got, trail) || cap(got) != len(trail)+bytes.MinRead {
				t.Errorf("%s: room %d for %d bytes; read %d bytes into %d, %v", name, size, len(trail), len(got), cap(got), err)
			}
		case "two.json.gz":
			if size >= int64(len(trail)) || err != nil || !bytes.Equal(got, trail) {
				t.Errorf("%s: room %d, less than its %d bytes; read %d bytes, %v", name, size, len(trail), len(got), err)
			}
		case "crafted.json.gz":
			if size != 0 || err == nil {
				t.Errorf("%s: room %d for a trailer claiming 2 GiB; read %d bytes, error %v", name, size, len(got), err)
			}
		}
	}
}
