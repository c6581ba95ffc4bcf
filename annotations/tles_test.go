package annotations

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var vanguard = TLEInput{
	Name:    "VANGUARD 1",
	NoradID: 5,
	Epoch:   time.Date(2000, 6, 27, 18, 50, 19, 733568000, time.UTC),
	Line1:   "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753",
	Line2:   "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667",
}

func TestTLEsAddedOnceListedAndDeleted(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		ctx := context.Background()
		by := Actor{Name: "ana"}
		added, err := s.AddTLEs(ctx, by, []TLEInput{vanguard})
		if err != nil {
			t.Fatal(err)
		}
		if len(added) != 1 || added[0].Existing || added[0].CreatedBy != "ana" || !added[0].Epoch.Equal(vanguard.Epoch) || added[0].NoradID != 5 {
			t.Fatalf("added %+v", added)
		}
		again, err := s.AddTLEs(ctx, Actor{Name: "bo"}, []TLEInput{vanguard})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 1 || !again[0].Existing || again[0].ID != added[0].ID || again[0].CreatedBy != "ana" {
			t.Errorf("the same lines again gave %+v, want the stored set", again)
		}
		list, err := s.TLEs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Line1 != vanguard.Line1 || list[0].Name != "VANGUARD 1" {
			t.Errorf("listed %+v", list)
		}
		if err := s.DeleteTLE(ctx, by, added[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTLE(ctx, by, added[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleting it twice: %v, want ErrNotFound", err)
		}
		if list, _ := s.TLEs(ctx); len(list) != 0 {
			t.Errorf("after the delete: %+v", list)
		}
		entries, err := s.AuditLog(ctx, AuditFilter{Action: "tle"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "tle.delete" || entries[1].Action != "tle.add" || !strings.Contains(entries[1].Detail, "VANGUARD 1 (5)") {
			t.Errorf("audit %+v", entries)
		}
	})
}

func TestTLEsAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		ctx := context.Background()
		bad := vanguard
		bad.Line2 = bad.Line2[:60]
		other := vanguard
		other.Line1 = strings.Replace(other.Line1, "4753", "4754", 1)
		if _, err := s.AddTLEs(ctx, Actor{Name: "ana"}, []TLEInput{other, bad}); err == nil || !strings.Contains(err.Error(), "tles[1]") {
			t.Fatalf("got %v, want the second set refused", err)
		}
		if list, _ := s.TLEs(ctx); len(list) != 0 {
			t.Errorf("stored %+v after a refusal", list)
		}
	})
}

func TestCaptureWindow(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 10, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name     string
		from, to string
		wantFrom time.Time
		wantTo   time.Time
		ok       bool
	}{
		{"ok, dates cover whole days", "2024-10-08", "2024-10-13", day(8), day(14), true},
		{"ok, times", "2024-10-08T02:00:00Z", "2024-10-08T03:30:00Z", day(8).Add(2 * time.Hour), day(8).Add(3*time.Hour + 30*time.Minute), true},
		{"ok, one date is that day", "", "2024-10-09", day(9), day(10), true},
		{"nok, none", "", "", time.Time{}, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, to, ok := Image{CapturedFrom: tc.from, CapturedTo: tc.to}.CaptureWindow()
			if ok != tc.ok || !f.Equal(tc.wantFrom) || !to.Equal(tc.wantTo) {
				t.Errorf("got %v–%v %v, want %v–%v %v", f, to, ok, tc.wantFrom, tc.wantTo, tc.ok)
			}
		})
	}
}
