// Command curatefixtures chooses the repository's own CloudTrail fixtures
// (testdata/fixtures/cloudtrail) from the full recorded set in
// ../shared/fixtures/cloudtrail: a few hundred records that together cover
// every origin, identity type, outcome, error code, time format, field
// shape, partition, script and oddity of the full set, every detection
// preset (several records each), every denial reason, and every Stratus Red
// Team technique with all of its records a technique-specific preset
// matches. The choice is greedy and deterministic, so a rerun on the same
// input writes the same files.
//
//	go run ./tools/curatefixtures [-from ../shared/fixtures/cloudtrail] [-to testdata/fixtures/cloudtrail]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// perPreset is how many records of each detection preset are kept at least
// (fewer when the full set has fewer); more when the preset's own fixtures
// (detections/testdata) hold more recorded matches, which the detections
// tests expect the recorded set to flag.
const perPreset = 3

type record struct {
	file     string // relative to the input folder
	index    int
	raw      json.RawMessage
	features []string
}

func main() {
	from := flag.String("from", "../shared/fixtures/cloudtrail", "the full recorded set")
	to := flag.String("to", "testdata/fixtures/cloudtrail", "where the curated files are written")
	presetFixtures := flag.String("presets", "detections/testdata", "the detection presets' own fixtures")
	flag.Parse()
	wantPerPreset, err := recordedMatches(*presetFixtures)
	if err != nil {
		log.Fatal(err)
	}
	recs, err := read(*from)
	if err != nil {
		log.Fatal(err)
	}
	set := detections.NewSet(detections.All())
	src := cloudtrail.New(cloudtrail.Options{Enrichers: []cloudtrail.Enricher{set, denial.Enricher{}}})
	fallback := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	need := map[string]int{}
	var must []int
	stratusFiles := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		r.features = features(r.raw)
		a := src.FromRecord(r.raw, nil, fallback)
		r.features = append(r.features, activityFeatures(a)...)
		r.features = append(r.features, "origin:"+strings.SplitN(r.file, "/", 2)[0])
		if slices.Contains(a.Tags, cloudtrail.TagUnrecognized) {
			// Every one: the source's tests name them.
			r.features = append(r.features, "unrecognized:"+r.file)
		}
		slices.Sort(r.features)
		r.features = slices.Compact(r.features)
		for _, f := range r.features {
			n := 1
			if id, ok := strings.CutPrefix(f, "detection:"); ok {
				n = max(perPreset, wantPerPreset[id])
			}
			need[f] = n
		}
		// Every Stratus technique file is kept, with every record a
		// technique-specific preset matches, so the coverage test counts the
		// same techniques on the curated set.
		if strings.HasPrefix(r.file, "stratus/") {
			for _, p := range set.Match(r.raw) {
				if p.ID != detections.DefaultID && p.ID != "unauthorized-api-calls-tuned" {
					must = append(must, i)
					break
				}
			}
			if !stratusFiles[r.file] {
				stratusFiles[r.file] = true
				must = append(must, i)
			}
		}
	}
	chosen := map[int]bool{}
	take := func(i int) {
		if chosen[i] {
			return
		}
		chosen[i] = true
		for _, f := range recs[i].features {
			need[f]--
		}
	}
	for _, i := range must {
		take(i)
	}
	for {
		best, bestGain := -1, 0
		for i, r := range recs {
			if chosen[i] {
				continue
			}
			gain := 0
			for _, f := range r.features {
				if need[f] > 0 {
					gain++
				}
			}
			if gain > bestGain {
				best, bestGain = i, gain
			}
		}
		if best < 0 {
			break
		}
		take(best)
	}
	if err := write(*to, recs, chosen); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d records in %s, covering %d features\n", len(chosen), len(recs), *to, len(need))
}

// recordedMatches returns, per preset id, how many of the matches in its own
// fixtures were recorded rather than synthesized.
func recordedMatches(dir string) (map[string]int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var f struct {
			Match []struct {
				From string `json:"from"`
			} `json:"match"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		id := strings.TrimSuffix(filepath.Base(path), ".json")
		for _, m := range f.Match {
			if !strings.HasPrefix(m.From, "synthesized") {
				out[id]++
			}
		}
	}
	return out, nil
}

// read returns every record of every log file under dir, in path order.
func read(dir string) ([]record, error) {
	var out []record
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var f struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(dir, path)
		for i, r := range f.Records {
			out = append(out, record{file: filepath.ToSlash(rel), index: i, raw: r})
		}
		return nil
	})
	return out, err
}

// write writes the chosen records, in their original order and text, into
// files named as their originals.
func write(dir string, recs []record, chosen map[int]bool) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	byFile := map[string][]json.RawMessage{}
	for i, r := range recs {
		if chosen[i] {
			byFile[r.file] = append(byFile[r.file], r.raw)
		}
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		var b bytes.Buffer
		b.WriteString("{\"Records\": [\n")
		for j, r := range byFile[f] {
			if j > 0 {
				b.WriteString(",\n")
			}
			b.Write(bytes.TrimSpace(r))
		}
		b.WriteString("\n]}\n")
		path := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

var (
	isoZ       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	isoFrac    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d+)Z$`)
	spaced     = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	region     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
	knownLower = []string{"eventname", "eventsource", "errorcode", "useridentity", "eventtime", "awsregion"}
)

// features describes the shape of a record as the source meets it.
func features(raw json.RawMessage) []string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return []string{"not-an-object"}
	}
	var fs []string
	add := func(f ...string) { fs = append(fs, strings.Join(f, ":")) }
	kind := func(v any, ok bool) string {
		switch {
		case !ok:
			return "absent"
		case v == nil:
			return "null"
		}
		switch v.(type) {
		case string:
			return "string"
		case bool:
			return "bool"
		case float64:
			return "number"
		case []any:
			return "list"
		}
		return "object"
	}
	switch id, ok := m["userIdentity"]; {
	case !ok:
		add("identity", "absent")
	case kind(id, ok) != "object":
		add("identity", kind(id, ok))
	default:
		idm := id.(map[string]any)
		t, ok := idm["type"].(string)
		switch {
		case len(idm) == 0:
			add("identity", "empty")
		case !ok:
			add("identity", "no-type")
		default:
			add("identity", t)
		}
		if _, ok := idm["invokedBy"]; ok {
			add("identity", "invokedBy")
		}
		if sc, ok := idm["sessionContext"].(map[string]any); ok {
			if si, ok := sc["sessionIssuer"].(map[string]any); ok {
				add("issuer", fmt.Sprint(si["type"]))
			}
			if _, ok := sc["sourceIdentity"]; ok {
				add("identity", "sourceIdentity")
			}
		}
		if _, ok := idm["onBehalfOf"]; ok {
			add("identity", "onBehalfOf")
		}
	}
	code, ok := m["errorCode"]
	add("errorCode", kind(code, ok), fmt.Sprint(code))
	t, ok := m["eventTime"].(string)
	switch {
	case !ok:
		add("time", kind(m["eventTime"], m["eventTime"] != nil))
	case isoZ.MatchString(t):
		add("time", "iso")
	case isoFrac.MatchString(t):
		add("time", "fraction", fmt.Sprint(len(isoFrac.FindStringSubmatch(t)[1])))
	case spaced.MatchString(t):
		add("time", "spaced")
	default:
		add("time", "other")
	}
	for _, k := range []string{"requestParameters", "responseElements", "readOnly", "resources", "additionalEventData", "errorMessage", "eventName", "serviceEventDetails", "tlsDetails", "insightDetails"} {
		v, ok := m[k]
		add("shape", k, kind(v, ok))
	}
	for k := range m {
		switch {
		case strings.HasPrefix(k, "p_"):
			add("vendor", "p_")
		case k == "@timestamp" || k == "http":
			add("vendor", k)
		case slices.Contains(knownLower, k):
			add("lower-case key", k)
		}
	}
	if et, ok := m["eventType"].(string); ok {
		add("eventType", et)
	}
	if ec, ok := m["eventCategory"].(string); ok {
		add("eventCategory", ec)
	}
	if r, ok := m["awsRegion"].(string); ok && !region.MatchString(r) {
		add("region", "unusual")
	}
	if es, ok := m["eventSource"].(string); ok {
		add("eventSource", es)
	}
	for _, p := range []string{"arn:aws-us-gov:", "arn:aws-cn:", "arn:aws-iso"} {
		if bytes.Contains(raw, []byte(p)) {
			add("partition", p)
		}
	}
	if msg, ok := m["errorMessage"].(string); ok && strings.Contains(msg, "Encoded authorization failure message") {
		add("encoded authorization message")
	}
	if ad, ok := m["additionalEventData"].(map[string]any); ok {
		if v, ok := ad["MFAUsed"]; ok {
			add("MFAUsed", fmt.Sprint(v))
		}
	}
	if re, ok := m["responseElements"].(map[string]any); ok {
		if v, ok := re["ConsoleLogin"]; ok {
			add("ConsoleLogin", fmt.Sprint(v))
		}
	}
	for _, r := range string(raw) {
		if r == utf8.RuneError {
			add("script", "invalid UTF-8")
		} else if r > 0xFFFF {
			add("script", "astral")
		} else if r > 0x7F {
			add("script", "non-ASCII")
		}
	}
	return fs
}

// activityFeatures describes what the source made of a record.
func activityFeatures(a *activity.Activity) []string {
	fs := []string{"severity:" + string(a.Severity)}
	if a.Actor != nil {
		fs = append(fs, "actor:"+a.Actor.Type)
	}
	if a.Action != nil {
		fs = append(fs, "outcome:"+string(a.Action.Outcome))
	}
	if p := a.Permission; p != nil {
		fs = append(fs, "reason:"+p.Reason, fmt.Sprintf("permission:fixable=%v,guardrail=%v", p.Fixable, p.Guardrail))
	}
	for _, d := range a.Detections {
		fs = append(fs, "detection:"+d.ID)
	}
	return fs
}
