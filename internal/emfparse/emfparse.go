// Package emfparse reads CloudWatch embedded metric format (EMF) log lines as
// CloudWatch Logs does, for tests: it checks a line against the
// specification (an "_aws" member with a millisecond Timestamp and
// CloudWatchMetrics directives, each with a Namespace, a Dimensions array of
// dimension sets and Metrics definitions; every dimension a string member of
// the root, every metric a number or a list of numbers there) and extracts
// one datum per directive, dimension set and metric.
//
// A line that is not JSON or has no "_aws" member is an ordinary log line;
// one that has it but breaks the specification is an error, as CloudWatch
// drops it (and no metric appears).
package emfparse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Limits the specification states.
const (
	maxDimensionsPerSet = 30
	maxMetrics          = 100
	maxValues           = 100
	maxNamespace        = 255
)

// units are the values MetricDefinition.Unit may take.
var units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true,
	"Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// ErrInvalid reports a line that declares EMF metadata but breaks the
// specification.
var ErrInvalid = errors.New("emfparse: invalid embedded metric line")

// Datum is one metric as CloudWatch would record it from a line.
type Datum struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string
	Values     []float64
	// Timestamp is the line's time in milliseconds since the epoch.
	Timestamp int64
}

// Sum is the sum of the datum's values.
func (d Datum) Sum() float64 {
	var s float64
	for _, v := range d.Values {
		s += v
	}
	return s
}

type directive struct {
	Namespace  *string            `json:"Namespace"`
	Dimensions *[][]string        `json:"Dimensions"`
	Metrics    *[]json.RawMessage `json:"Metrics"`
}

type definition struct {
	Name              *string `json:"Name"`
	Unit              *string `json:"Unit"`
	StorageResolution *int    `json:"StorageResolution"`
}

// Line extracts the metrics of one log line: nil for an ordinary log line,
// ErrInvalid for a line whose metadata breaks the specification.
func Line(line []byte) ([]Datum, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return nil, nil
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, nil
	}
	rawMeta, ok := root["_aws"]
	if !ok {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	var meta struct {
		Timestamp *json.Number `json:"Timestamp"`
		Metrics   *[]directive `json:"CloudWatchMetrics"`
	}
	dec := json.NewDecoder(bytes.NewReader(rawMeta))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		return nil, bad("_aws: %v", err)
	}
	if meta.Timestamp == nil {
		return nil, bad("_aws.Timestamp is missing")
	}
	ts, err := meta.Timestamp.Int64()
	if err != nil || ts <= 0 {
		return nil, bad("_aws.Timestamp %q is not a positive integer of milliseconds", meta.Timestamp.String())
	}
	if meta.Metrics == nil {
		return nil, bad("_aws.CloudWatchMetrics is missing")
	}
	var out []Datum
	for i, d := range *meta.Metrics {
		if d.Namespace == nil || *d.Namespace == "" || len(*d.Namespace) > maxNamespace {
			return nil, bad("directive %d: Namespace missing or out of bounds", i)
		}
		if d.Dimensions == nil {
			return nil, bad("directive %d: Dimensions must be an array of dimension sets", i)
		}
		if d.Metrics == nil || len(*d.Metrics) > maxMetrics {
			return nil, bad("directive %d: Metrics missing or more than %d", i, maxMetrics)
		}
		var sets []map[string]string
		for _, set := range *d.Dimensions {
			if len(set) > maxDimensionsPerSet {
				return nil, bad("directive %d: a dimension set has %d dimensions", i, len(set))
			}
			dims := map[string]string{}
			for _, name := range set {
				var v string
				raw, ok := root[name]
				if !ok || json.Unmarshal(raw, &v) != nil {
					return nil, bad("directive %d: dimension %q is not a string member of the root", i, name)
				}
				dims[name] = v
			}
			sets = append(sets, dims)
		}
		if len(sets) == 0 {
			// A directive without dimension sets records each metric once,
			// with no dimensions.
			sets = []map[string]string{{}}
		}
		for _, rawDef := range *d.Metrics {
			var def definition
			if err := json.Unmarshal(rawDef, &def); err != nil || def.Name == nil || *def.Name == "" {
				return nil, bad("directive %d: a metric definition has no Name", i)
			}
			unit := "None"
			if def.Unit != nil {
				if !units[*def.Unit] {
					return nil, bad("metric %q: unit %q is not a CloudWatch unit", *def.Name, *def.Unit)
				}
				unit = *def.Unit
			}
			if r := def.StorageResolution; r != nil && *r != 1 && *r != 60 {
				return nil, bad("metric %q: StorageResolution %d", *def.Name, *r)
			}
			values, err := numbers(root[*def.Name])
			if err != nil {
				return nil, bad("metric %q: %v", *def.Name, err)
			}
			for _, dims := range sets {
				out = append(out, Datum{Namespace: *d.Namespace, Name: *def.Name, Unit: unit, Dimensions: maps.Clone(dims), Values: values, Timestamp: ts})
			}
		}
	}
	return out, nil
}

// numbers reads a metric's value: a number or a list of at most 100.
func numbers(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("no member of the root holds its value")
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("value %s is neither a number nor a list of numbers", raw)
	}
	if len(many) == 0 || len(many) > maxValues {
		return nil, fmt.Errorf("%d values", len(many))
	}
	return many, nil
}

// Lines extracts the metrics of every line in text (a function's log), and
// the first error of a line that breaks the specification.
func Lines(text string) ([]Datum, error) {
	var out []Datum
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		ds, err := Line(sc.Bytes())
		if err != nil {
			return out, err
		}
		out = append(out, ds...)
	}
	return out, sc.Err()
}

// Sum adds the values of the data named name in namespace whose dimensions
// are exactly dims, as a CloudWatch Sum over them would.
func Sum(data []Datum, namespace, name string, dims map[string]string) float64 {
	var s float64
	for _, d := range data {
		if d.Namespace == namespace && d.Name == name && maps.Equal(d.Dimensions, dims) {
			s += d.Sum()
		}
	}
	return s
}
