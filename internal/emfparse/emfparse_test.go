package emfparse

import (
	"errors"
	"testing"
)

func TestLine(t *testing.T) {
	valid := `{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["Function","Source"]],"Metrics":[{"Name":"RecordsIn","Unit":"Count"},{"Name":"Lat","Unit":"Milliseconds"}]}]},"Function":"f","Source":"cloudtrail","RecordsIn":3,"Lat":[1,2]}`
	data, err := Line([]byte(valid))
	if err != nil || len(data) != 2 {
		t.Fatalf("Line(valid) = %v, %v", data, err)
	}
	if d := data[0]; d.Name != "RecordsIn" || d.Sum() != 3 || d.Dimensions["Source"] != "cloudtrail" || d.Unit != "Count" || d.Timestamp != 1700000000000 {
		t.Errorf("datum 0 = %+v", d)
	}
	if d := data[1]; d.Sum() != 3 || len(d.Values) != 2 {
		t.Errorf("datum 1 = %+v", d)
	}
	for name, line := range map[string]string{
		"null dimensions":      `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":null,"Metrics":[{"Name":"a"}]}]},"a":1}`,
		"missing timestamp":    `{"_aws":{"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[],"Metrics":[{"Name":"a"}]}]},"a":1}`,
		"dimension not a root": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["D"]],"Metrics":[{"Name":"a"}]}]},"a":1}`,
		"dimension a number":   `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["D"]],"Metrics":[{"Name":"a"}]}]},"a":1,"D":2}`,
		"value missing":        `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[],"Metrics":[{"Name":"a"}]}]}}`,
		"value a string":       `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[],"Metrics":[{"Name":"a"}]}]},"a":"1"}`,
		"unknown unit":         `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[],"Metrics":[{"Name":"a","Unit":"Things"}]}]},"a":1}`,
		"no namespace":         `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[],"Metrics":[{"Name":"a"}]}]},"a":1}`,
	} {
		if _, err := Line([]byte(line)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	for _, plain := range []string{``, `not json`, `{"level":"INFO","msg":"x"}`, `{"broken`} {
		if data, err := Line([]byte(plain)); data != nil || err != nil {
			t.Errorf("Line(%q) = %v, %v, want an ordinary line", plain, data, err)
		}
	}
}

func TestSum(t *testing.T) {
	data, err := Lines(`{"level":"INFO"}
{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["D"]],"Metrics":[{"Name":"a"}]}]},"a":2,"D":"x"}
{"_aws":{"Timestamp":2,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["D"]],"Metrics":[{"Name":"a"}]}]},"a":3,"D":"x"}
{"_aws":{"Timestamp":3,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["D"]],"Metrics":[{"Name":"a"}]}]},"a":5,"D":"y"}
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sum(data, "NS", "a", map[string]string{"D": "x"}); got != 5 {
		t.Errorf("Sum(D=x) = %v, want 5", got)
	}
	if got := Sum(data, "NS", "a", nil); got != 0 {
		t.Errorf("Sum(no dimensions) = %v, want 0", got)
	}
}
