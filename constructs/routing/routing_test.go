package routing

import (
	"reflect"
	"testing"
)

func TestAtOrAbove(t *testing.T) {
	for min, want := range map[string][]string{
		"critical": {"critical"},
		"medium":   {"critical", "high", "medium"},
		"info":     {"critical", "high", "medium", "low", "info"},
	} {
		if got, err := AtOrAbove(min); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("AtOrAbove(%s) = %v, %v", min, got, err)
		}
	}
	if _, err := AtOrAbove("severe"); err == nil {
		t.Error("an unknown severity passed")
	}
}
