package main

import (
	"slices"
	"testing"
)

// TestForgetAll: forgetting the ids of a changes answer's deletions in one pass leaves
// what forgetting them one by one leaves: the other ids in their order, and none of the
// forgotten ones' versions or shapes.
func TestForgetAll(t *testing.T) {
	k := known{version: map[string]int{}, shape: map[string]string{}}
	// pXY and qXY share their filter bit: only the one deleted may go.
	for i, id := range []string{"a", "b", "pXY", "c", "d", "qXY", "e"} {
		k.ids = append(k.ids, id)
		k.version[id], k.shape[id] = i+1, "point"
	}
	if tail("pXY") != tail("qXY") {
		t.Fatal("pXY and qXY no longer share a filter bit: choose two that do")
	}
	k.forgetAll([]string{"d", "a", "zz", "d", "pXY"}) // out of order, one unknown, one twice
	if want := []string{"b", "c", "qXY", "e"}; !slices.Equal(k.ids, want) {
		t.Errorf("ids %v, want %v", k.ids, want)
	}
	for _, id := range []string{"a", "d", "pXY"} {
		if _, ok := k.version[id]; ok {
			t.Errorf("the version of %s is still known", id)
		}
		if _, ok := k.shape[id]; ok {
			t.Errorf("the shape of %s is still known", id)
		}
	}
	for _, id := range []string{"b", "c", "qXY", "e"} {
		if _, ok := k.version[id]; !ok {
			t.Errorf("the version of %s was forgotten", id)
		}
	}
	k.forgetAll(nil)
	if len(k.ids) != 4 {
		t.Errorf("forgetting nothing left %v", k.ids)
	}
}
