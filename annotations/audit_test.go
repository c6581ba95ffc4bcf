package annotations

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
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
	})
}

// dump is every table but the audit log, row by row, to show that nothing changed.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.DB().Query(onBackend(s, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('audit', 'sqlite_sequence') ORDER BY name`,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
			AND table_name NOT IN ('audit', 'spatial_ref_sys') ORDER BY table_name`))
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rows, err := s.DB().Query(`SELECT * FROM "` + table + `" ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// A change and its audit entry commit together or not at all: with audit inserts
// refused (the trigger stands in for any failure), every audited change fails as a whole
// and leaves everything as it was; without the trigger it writes exactly its entry.
func TestAuditIsWrittenInTheSameTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		by := Actor{Name: "root", IP: "192.0.2.1"}
		gt := [6]float64{131.85, 2.5e-5, 0, 43.14, 0, -2e-5}
		type fixture struct {
			annotated
			user  User
			token Token
			ann   Annotation
		}
		tests := []struct {
			name   string
			action string
			setup  func(t *testing.T, x fixture)
			change func(x fixture) error
		}{
			{"image upload", "image.upload", nil, func(x fixture) error {
				_, _, err := x.s.CreateImage(ctx, NewImage{SHA256: shaOf("another"), Filename: "another.jpg", MediaType: "image/jpeg",
					ByteSize: 1, Width: 10, Height: 10, CreatedBy: by}, noPlace)
				return err
			}},
			{"image trash", "image.trash", nil, func(x fixture) error { _, err := x.s.TrashImage(ctx, by, x.img.ID); return err }},
			{"image restore", "image.restore",
				func(t *testing.T, x fixture) {
					if _, err := x.s.TrashImage(ctx, by, x.img.ID); err != nil {
						t.Fatal(err)
					}
				},
				func(x fixture) error { _, err := x.s.RestoreImage(ctx, by, x.img.ID); return err }},
			{"image purge", "image.purge",
				func(t *testing.T, x fixture) {
					if _, err := x.s.TrashImage(ctx, by, x.img.ID); err != nil {
						t.Fatal(err)
					}
				},
				func(x fixture) error { _, err := x.s.PurgeImage(ctx, by, x.img.ID); return err }},
			{"annotation delete", "annotation.delete", nil, func(x fixture) error { return x.s.DeleteAnnotation(ctx, by, x.ann.ID, ptr(1)) }},
			{"annotation restore", "annotation.restore",
				func(t *testing.T, x fixture) {
					if _, err := x.s.UpdateAnnotation(ctx, "bob", x.ann.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"note":"moved"}`)}); err != nil {
						t.Fatal(err)
					}
				},
				func(x fixture) error { _, err := x.s.RestoreAnnotation(ctx, by, x.ann.ID, 1, ptr(2)); return err }},
			{"label create", "label.create", nil, func(x fixture) error {
				_, err := x.s.CreateLabel(ctx, by, LabelInput{Name: ptr("aircraft")})
				return err
			}},
			{"label update", "label.update", nil, func(x fixture) error {
				_, err := x.s.UpdateLabel(ctx, by, x.naval.ID, LabelInput{Name: ptr("naval station")})
				return err
			}},
			{"label delete", "label.delete", nil, func(x fixture) error { return x.s.DeleteLabel(ctx, by, x.naval.ID) }},
			{"georeference set", "georeference.set", nil, func(x fixture) error {
				_, err := x.s.SetGeoreference(ctx, by, Georeference{ImageID: x.img.ID, Method: GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "worldfile"})
				return err
			}},
			{"ground sample distance set", "georeference.set", nil, func(x fixture) error {
				_, err := x.s.SetGroundSampleDistance(ctx, by, x.img.ID, ptr(0.5))
				return err
			}},
			{"georeference delete", "georeference.delete",
				func(t *testing.T, x fixture) {
					if _, err := x.s.SetGroundSampleDistance(ctx, by, x.img.ID, ptr(0.5)); err != nil {
						t.Fatal(err)
					}
				},
				func(x fixture) error { return x.s.DeleteGeoreference(ctx, by, x.img.ID) }},
			{"user create", "user.create", nil, func(x fixture) error {
				_, err := x.s.CreateUser(ctx, by, NewUser{Name: "carol", Role: RoleViewer, PasswordHash: "hash"})
				return err
			}},
			{"user disable", "user.update", nil, func(x fixture) error {
				_, err := x.s.UpdateUser(ctx, by, x.user.ID, UserChange{Disabled: ptr(true)})
				return err
			}},
			{"own password change", "user.password", nil, func(x fixture) error {
				_, err := x.s.UpdateUser(ctx, Actor{Name: x.user.Name, IP: by.IP}, x.user.ID, UserChange{PasswordHash: ptr("new-hash")})
				return err
			}},
			{"sign out", "signout", nil, func(x fixture) error { return x.s.SignOut(ctx, by, "session-hash") }},
			{"sign out everywhere", "signout.everywhere", nil, func(x fixture) error {
				_, err := x.s.DeleteUserSessions(ctx, by, x.user.ID)
				return err
			}},
			{"token create", "token.create", nil, func(x fixture) error {
				_, err := x.s.CreateToken(ctx, by, x.user.ID, "another script", "another-token-hash")
				return err
			}},
			{"token revoke", "token.revoke", nil, func(x fixture) error { return x.s.RevokeToken(ctx, by, x.user.ID, x.token.ID) }},
		}
		newFixture := func(t *testing.T) fixture {
			x := fixture{annotated: newAnnotated(t)}
			x.user = addUser(t, x.s, "ana", RoleAnalyst)
			addSession(t, x.s, x.user, "session-hash", time.Now(), time.Now().Add(time.Hour))
			var err error
			if x.token, err = x.s.CreateToken(ctx, by, x.user.ID, "script", "token-hash"); err != nil {
				t.Fatal(err)
			}
			x.ann = addAnnotation(t, x.s, "alice", x.img.ID, "facility", ShapePoint, pointJSON, "")
			return x
		}
		for _, tc := range tests {
			t.Run("nok, "+tc.name+" with its audit entry refused", func(t *testing.T) {
				x := newFixture(t)
				if tc.setup != nil {
					tc.setup(t, x)
				}
				refuseInserts(t, x.s, "refuse_audit", "audit", "", "audit refused")
				before := dump(t, x.s)
				if err := tc.change(x); err == nil || !strings.Contains(err.Error(), "audit refused") {
					t.Errorf("got %v, want the audit failure", err)
				}
				if after := dump(t, x.s); after != before {
					t.Errorf("the refused change left changes behind:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
			t.Run("ok, "+tc.name+" writes its audit entry", func(t *testing.T) {
				x := newFixture(t)
				if tc.setup != nil {
					tc.setup(t, x)
				}
				before, err := x.s.AuditLog(ctx, AuditFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.change(x); err != nil {
					t.Fatal(err)
				}
				after, err := x.s.AuditLog(ctx, AuditFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(after) != len(before)+1 || after[0].Action != tc.action || after[0].IP != by.IP {
					t.Errorf("got %d new entries, newest %+v; want one %s", len(after)-len(before), after[0], tc.action)
				}
			})
		}
	})
}
