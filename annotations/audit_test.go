package annotations

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	stepClock(t, s, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), time.Second)
	entries := []AuditEntry{
		{Actor: "alice", Action: "signin.ok", TargetType: "user", TargetID: "usr_alice", IP: "192.0.2.1"},
		{Actor: "mallory", Action: "signin.failed", TargetType: "user", Detail: "wrong password", IP: "203.0.113.9"},
		{Actor: "mallory", Action: "signin.throttled", TargetType: "user", Detail: "refused", IP: "203.0.113.9"},
		{Actor: "alice", Action: "image.upload", TargetType: "image", TargetID: "img_1", Detail: "scene.png"},
		{Actor: "alice", Action: "signout", TargetType: "user", TargetID: "usr_alice"},
		{Actor: "bob", Action: "signin", Detail: "an action named exactly as the filter"},
		{Actor: "bob", Action: "signinx.odd", Detail: "shares the letters, not the prefix"},
	}
	for _, e := range entries {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	actions := func(es []AuditEntry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Actor+":"+e.Action)
		}
		return strings.Join(out, ",")
	}

	all, err := s.AuditLog(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(entries) {
		t.Fatalf("got %d entries, want %d", len(all), len(entries))
	}
	// Newest first, every field kept.
	first := all[len(all)-1]
	if first.Actor != "alice" || first.Action != "signin.ok" || first.TargetType != "user" || first.TargetID != "usr_alice" ||
		first.IP != "192.0.2.1" || !first.At.Equal(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) || first.ID == 0 {
		t.Errorf("oldest entry: got %+v", first)
	}
	if all[1].Detail != "an action named exactly as the filter" {
		t.Errorf("second newest: got %+v", all[1])
	}

	tests := []struct {
		name   string
		filter AuditFilter
		want   string
	}{
		{"ok, no filter, newest first", AuditFilter{},
			"bob:signinx.odd,bob:signin,alice:signout,alice:image.upload,mallory:signin.throttled,mallory:signin.failed,alice:signin.ok"},
		{"ok, an action prefix matches its dotted children and itself", AuditFilter{Action: "signin"},
			"bob:signin,mallory:signin.throttled,mallory:signin.failed,alice:signin.ok"},
		{"ok, a full action matches only itself", AuditFilter{Action: "signin.failed"}, "mallory:signin.failed"},
		{"ok, a prefix is whole words, not letters", AuditFilter{Action: "sign"}, ""},
		{"ok, a percent sign is no wildcard", AuditFilter{Action: "%"}, ""},
		{"ok, by actor", AuditFilter{Actor: "mallory"}, "mallory:signin.throttled,mallory:signin.failed"},
		{"ok, by actor and action", AuditFilter{Actor: "alice", Action: "signin"}, "alice:signin.ok"},
		{"ok, limit", AuditFilter{Limit: 2}, "bob:signinx.odd,bob:signin"},
		{"ok, before an id pages on", AuditFilter{Before: all[2].ID, Limit: 2}, "alice:image.upload,mallory:signin.throttled"},
		{"ok, before the oldest is empty", AuditFilter{Before: first.ID}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.AuditLog(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Errorf("got nil, want an empty list at least (it is sent as JSON)")
			}
			if a := actions(got); a != tc.want {
				t.Errorf("got %s\nwant %s", a, tc.want)
			}
		})
	}
}
