package annotations

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/satmark/satmark/pgtest"
)

// The PostgreSQL schema in pgmigrations/ is the SQLite one that migrations/ makes: the
// same tables, columns (names, order, types, NOT NULL, defaults, keys), indexes, foreign
// keys and triggers, and the triggers and constraints do the same thing to the same
// statements. The columns PostgreSQL has and SQLite has not (name|type|not null|default|
// pk) are PostGIS views of columns both have, and the rowid SQLite gives every table,
// which PostgreSQL has not, where the Go code reads it.
var pgOnlyColumns = map[string][]string{
	"sites":         {"area_geom|USER-DEFINED|0||0"},
	"georeferences": {"footprint_geom|USER-DEFINED|0||0"},
	"claims":        {"place|USER-DEFINED|0||0", "rowid|bigint|1||0"},
	"evidence":      {"rowid|bigint|1||0"},
}

// sqliteFlags are the INTEGER columns SQLite holds 0/1 in, kept INTEGER in PostgreSQL;
// every other INTEGER is a BIGINT there.
var sqliteFlags = map[string]bool{
	"users.disabled": true, "users.must_change_password": true,
	"images.publisher_markup": true, "site_images.member": true,
}

const twinHint = "A SQLite migration that changes the schema needs its PostgreSQL twin in pgmigrations/ (docs/postgres.md)."

// applyPGMigrations applies pgmigrations/*.sql in order, each in its own transaction,
// recorded in schema_migrations as the SQLite store records its own.
func applyPGMigrations(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(os.DirFS("."), "pgmigrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("pgmigrations: %v files, %v", len(names), err)
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(string(body)); err != nil {
			tx.Rollback()
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, formatTime(time.Now())); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// rows runs query and returns each row as its values printed and joined by "|".
func rows(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rs, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPGSchemaIsTheSQLiteSchema(t *testing.T) {
	lite := openStore(t).DB()
	dsn := pgtest.DSN(t)
	pg := openPG(t, dsn)
	applyPGMigrations(t, pg)

	liteTables := rows(t, lite, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	pgTables := rows(t, pg, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name != 'spatial_ref_sys' ORDER BY table_name`)
	if !reflect.DeepEqual(liteTables, pgTables) {
		t.Fatalf("tables:\n SQLite     %v\n PostgreSQL %v\n%s", liteTables, pgTables, twinHint)
	}

	t.Run("columns", func(t *testing.T) {
		for _, table := range liteTables {
			// name|type|not null|default|position in the primary key
			var want []string
			for _, c := range rows(t, lite, `SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, table) {
				f := strings.Split(c, "|")
				// SQLite lets a rowid table's TEXT PRIMARY KEY hold NULL (its
				// long-standing quirk); PostgreSQL's keys are NOT NULL, as they were
				// meant to be. The store never writes a NULL key.
				if f[4] != "0" {
					f[2] = "1"
				}
				switch f[1] {
				case "INTEGER":
					f[1] = "bigint"
					if sqliteFlags[table+"."+f[0]] {
						f[1] = "integer"
					}
				case "REAL":
					f[1] = "double precision"
				case "TEXT":
					f[1] = "text"
				case "BLOB":
					f[1] = "bytea"
					if f[3] == "x''" { // the empty blob
						f[3] = `'\x'`
					}
				}
				want = append(want, strings.Join(f, "|"))
			}
			want = append(want, pgOnlyColumns[table]...)
			got := rows(t, pg, `SELECT c.column_name, c.data_type, CASE c.is_nullable WHEN 'NO' THEN 1 ELSE 0 END,
				regexp_replace(COALESCE(c.column_default, ''), '::(text|bigint|integer|double precision|bytea)$', ''),
				COALESCE(k.ordinal_position, 0)
				FROM information_schema.columns c
				LEFT JOIN information_schema.table_constraints p ON p.table_schema = c.table_schema
					AND p.table_name = c.table_name AND p.constraint_type = 'PRIMARY KEY'
				LEFT JOIN information_schema.key_column_usage k ON k.constraint_name = p.constraint_name
					AND k.table_schema = c.table_schema AND k.column_name = c.column_name
				WHERE c.table_schema = 'public' AND c.table_name = $1 ORDER BY c.ordinal_position`, table)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s columns (name|type|not null|default|pk):\n got  %q\n want %q", table, got, want)
			}
		}
	})

	t.Run("indexes", func(t *testing.T) {
		// The indexes a migration names, and whether they are unique.
		want := rows(t, lite, `SELECT m.name, m.tbl_name, l."unique" FROM sqlite_master m
			JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name
			WHERE m.type = 'index' AND m.sql IS NOT NULL ORDER BY m.name`)
		got := rows(t, pg, `SELECT i.relname, t.relname, CASE WHEN x.indisunique THEN 1 ELSE 0 END
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = 'public' AND t.relname != 'spatial_ref_sys' AND NOT x.indisprimary
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
			AND i.relname NOT IN ('sites_area_geom', 'claims_place', 'georeferences_footprint_geom')
			ORDER BY i.relname`)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("named indexes (name|table|unique):\n got  %q\n want %q", got, want)
		}
		// UNIQUE constraints, by their columns.
		want = rows(t, lite, `SELECT m.name, (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
			FROM sqlite_master m JOIN pragma_index_list(m.name) l ON l.origin = 'u'
			WHERE m.type = 'table' ORDER BY 1, 2`)
		got = rows(t, pg, `SELECT t.relname, (SELECT string_agg(a.attname, ',' ORDER BY k.i)
				FROM unnest(c.conkey) WITH ORDINALITY k(col, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col)
			FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
			WHERE c.contype = 'u' AND c.connamespace = 'public'::regnamespace ORDER BY 1, 2`)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("unique constraints (table|columns):\n got  %q\n want %q", got, want)
		}
		// Each PostGIS column has its spatial index.
		gist := rows(t, pg, `SELECT indexname, tablename FROM pg_indexes WHERE indexdef LIKE '%USING gist%' AND schemaname = 'public' ORDER BY 1`)
		if want := []string{"claims_place|claims", "georeferences_footprint_geom|georeferences", "sites_area_geom|sites"}; !reflect.DeepEqual(gist, want) {
			t.Errorf("GIST indexes: got %q, want %q", gist, want)
		}
	})

	t.Run("checks", func(t *testing.T) {
		// How many CHECK constraints each table has (SQLite keeps them only in the
		// table's CREATE text); what they refuse is tried below, on both.
		var want []string
		for _, r := range rows(t, lite, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`) {
			name, sql, _ := strings.Cut(r, "|")
			if n := strings.Count(sql, "CHECK"); n > 0 {
				want = append(want, fmt.Sprintf("%s|%d", name, n))
			}
		}
		got := rows(t, pg, `SELECT t.relname, COUNT(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
			WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace AND t.relname != 'spatial_ref_sys'
			GROUP BY t.relname ORDER BY 1`)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CHECK constraints (table|count):\n got  %q\n want %q", got, want)
		}
	})

	t.Run("foreign keys", func(t *testing.T) {
		want := rows(t, lite, `SELECT m.name, f."from", f."table", f."to", f.on_delete FROM sqlite_master m
			JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY 1, 2`)
		got := rows(t, pg, `SELECT t.relname, a.attname, ft.relname, fa.attname,
				CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END
			FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class ft ON ft.oid = c.confrelid
			CROSS JOIN LATERAL unnest(c.conkey, c.confkey) k(col, fcol)
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
			JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol
			WHERE c.contype = 'f' ORDER BY 1, 2`)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("foreign keys (table|column|references|column|on delete):\n got  %q\n want %q", got, want)
		}
	})

	t.Run("triggers", func(t *testing.T) {
		// SQLite's triggers are all FOR EACH ROW; what they do is tried below.
		when := regexp.MustCompile(`(?i)\b(BEFORE|AFTER|INSTEAD OF)\s+(INSERT|UPDATE|DELETE)\b(\s+OF\s+[a-z_, ]+?\s+ON)?`)
		var want []string
		for _, r := range rows(t, lite, `SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1`) {
			f := strings.SplitN(r, "|", 3)
			m := when.FindStringSubmatch(f[2])
			if m == nil {
				t.Fatalf("trigger %s: no timing and event in %q", f[0], f[2])
			}
			cols := strings.Split(strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(m[3]), "OF "), " ON"), " ", ""), ",")
			sort.Strings(cols)
			want = append(want, strings.Join([]string{f[0], f[1], strings.ToUpper(m[1]), strings.ToUpper(m[2]), strings.Join(cols, ","), "ROW"}, "|"))
		}
		got := rows(t, pg, `SELECT t.trigger_name, t.event_object_table, t.action_timing, t.event_manipulation,
				COALESCE((SELECT string_agg(c.event_object_column, ',' ORDER BY c.event_object_column)
					FROM information_schema.triggered_update_columns c
					WHERE c.trigger_schema = t.trigger_schema AND c.trigger_name = t.trigger_name), ''),
				t.action_orientation
			FROM information_schema.triggers t WHERE t.trigger_schema = 'public' ORDER BY 1`)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("triggers (name|table|timing|event|columns|for each):\n got  %q\n want %q", got, want)
		}
	})

	if t.Failed() {
		t.Log(twinHint)
	}

	t.Run("same statements, same effects", func(t *testing.T) {
		sameEffects(t, lite, pg)
	})

	t.Run("names unique ignoring ASCII case only, under a Unicode locale", func(t *testing.T) {
		// pgtest's databases are in the C locale, where lower() folds ASCII letters only
		// anyway; a server set up with a Unicode locale folds É to é, which SQLite's
		// NOCASE does not (the indexes fold under "C" to keep it so).
		icu := openPG(t, icuDatabase(t, dsn))
		if _, err := icu.Exec(`CREATE EXTENSION postgis`); err != nil {
			t.Fatal(err)
		}
		applyPGMigrations(t, icu)
		var folded string
		if err := icu.QueryRow(`SELECT lower('É')`).Scan(&folded); err != nil || folded != "é" {
			t.Fatalf("lower('É') = %q, %v: want é, else this database tells nothing", folded, err)
		}
		for _, table := range []string{"users", "labels", "sites"} {
			insert := map[string]string{
				"users":  `INSERT INTO users (id, name, role, password_hash, created_at, updated_at) VALUES ($1, $2, 'admin', 'h', 't', 't')`,
				"labels": `INSERT INTO labels (id, name, color, created_at) VALUES ($1, $2, '#fff', 't')`,
				"sites": `INSERT INTO sites (id, name, area, created_by, created_at, updated_by, updated_at)
					VALUES ($1, $2, '{"type":"Polygon","coordinates":[[[30,40],[31,40],[31,41],[30,40]]]}', 'a', 't', 'a', 't')`,
			}[table]
			for i, name := range []string{"Émile", "émile"} {
				if _, err := icu.Exec(insert, fmt.Sprint(table, i), name); err != nil {
					t.Errorf("%s named %q: %v; SQLite takes it", table, name, err)
				}
			}
			if _, err := icu.Exec(insert, table+"_3", "ÉMILE"); err == nil {
				t.Errorf("%s named ÉMILE beside Émile: taken; SQLite refuses it", table)
			}
		}
	})
}

func openPG(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// icuDatabase makes an empty database beside dsn's whose default collation is ICU's
// en-US, dropped when the test ends, and returns its DSN.
func icuDatabase(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_icu"
	admin := *u
	admin.Path = "/postgres"
	db := openPG(t, admin.String())
	if _, err := db.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// sameEffects runs the same statements on both databases, in order: each must succeed or
// fail as said on both, and leave both answering its query alike.
func sameEffects(t *testing.T, lite, pg *sql.DB) {
	const counts = `SELECT image_id, review_status, n FROM image_review_counts ORDER BY image_id, review_status`
	const stamp = `SELECT n FROM label_stamp`
	const annotation = `INSERT INTO annotations (id, image_id, label_id, shape, geometry, review_status, created_by, created_at, updated_by, updated_at, version) VALUES `
	setup := []string{
		`INSERT INTO sources (id, created_at) VALUES ('src_1', 't')`,
		`INSERT INTO images (id, sha256, source_id, media_type, byte_size, width, height, created_by, created_at, updated_at)
			VALUES ('img_1', 'a', 'src_1', 'image/png', 1, 1, 1, 'ann', 't', 't'), ('img_2', 'b', 'src_1', 'image/png', 1, 1, 1, 'ann', 't', 't')`,
		`INSERT INTO labels (id, name, color, created_at) VALUES ('lab_1', 'Ship', '#fff', 't'), ('lab_2', 'Tank', '#fff', 't')`,
	}
	for _, db := range []*sql.DB{lite, pg} {
		for _, q := range setup {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	json := func(doc string, fails bool) step {
		return step{"image_displays.settings " + doc,
			`INSERT INTO image_displays (image_id, settings, updated_at) VALUES ('img_1', '` + doc + `', 't')
				ON CONFLICT (image_id) DO UPDATE SET settings = excluded.settings`,
			fails, `SELECT settings FROM image_displays`}
	}
	steps := []step{
		{"annotations inserted are counted", annotation + `('ann_1', 'img_1', 'lab_1', 'point', '{}', 'draft', 'a', 't', 'a', 't', 1),
			('ann_2', 'img_1', 'lab_1', 'point', '{}', 'draft', 'a', 't', 'a', 't', 1),
			('ann_3', 'img_2', 'lab_1', 'point', '{}', 'submitted', 'a', 't', 'a', 't', 1)`, false, counts},
		{"a change of status moves a count", `UPDATE annotations SET review_status = 'accepted' WHERE id = 'ann_1'`, false, counts},
		{"a change of status to itself moves none", `UPDATE annotations SET review_status = review_status, note = 'n' WHERE id = 'ann_2'`, false, counts},
		{"a move to another image moves a count", `UPDATE annotations SET image_id = 'img_2' WHERE id = 'ann_2'`, false, counts},
		{"an annotation deleted is counted out, leaving a zero", `DELETE FROM annotations WHERE id = 'ann_1'`, false, counts},
		{"a count is never below zero", `UPDATE image_review_counts SET n = n - 1 WHERE n = 0`, true, counts},
		{"a failed insert counts nothing", annotation + `('ann_4', 'img_9', 'lab_1', 'point', '{}', 'draft', 'a', 't', 'a', 't', 1)`, true, counts},

		{"a label inserted moves the stamp", `INSERT INTO labels (id, name, color, created_at) VALUES ('lab_3', 'Jet', '#fff', 't')`, false, stamp},
		{"each label updated moves the stamp", `UPDATE labels SET color = '#000' WHERE id IN ('lab_1', 'lab_2')`, false, stamp},
		{"an update of no label leaves it", `UPDATE labels SET color = '#000' WHERE id = 'lab_9'`, false, stamp},
		{"a label deleted moves the stamp", `DELETE FROM labels WHERE id = 'lab_3'`, false, stamp},

		{"a sibling label's name is unique ignoring ASCII case", `INSERT INTO labels (id, name, color, created_at) VALUES ('lab_4', 'SHIP', '#fff', 't')`, true, stamp},
		{"under another parent it is free", `INSERT INTO labels (id, name, color, created_at, parent_id) VALUES ('lab_4', 'SHIP', '#fff', 't', 'lab_1')`, false, stamp},
		{"a user's name is unique ignoring ASCII case", `INSERT INTO users (id, name, role, password_hash, created_at, updated_at)
			VALUES ('usr_1', 'Ann', 'admin', 'h', 't', 't'), ('usr_2', 'aNN', 'admin', 'h', 't', 't')`, true, `SELECT id FROM users`},
		{"only ASCII letters are folded", `INSERT INTO users (id, name, role, password_hash, created_at, updated_at)
			VALUES ('usr_1', 'Émile', 'admin', 'h', 't', 't'), ('usr_2', 'émile', 'admin', 'h', 't', 't')`, false, `SELECT id, name FROM users ORDER BY id`},
		{"a site's name is unique ignoring ASCII case", `INSERT INTO sites (id, name, area, created_by, created_at, updated_by, updated_at)
			VALUES ('sit_1', 'Port', '{"type":"Polygon","coordinates":[[[30,40],[31,40],[31,41],[30,40]]]}', 'a', 't', 'a', 't'),
			('sit_2', 'PORT', '{"type":"Polygon","coordinates":[[[30,40],[31,40],[31,41],[30,40]]]}', 'a', 't', 'a', 't')`, true, `SELECT id FROM sites`},
		{"a site is stored", `INSERT INTO sites (id, name, area, created_by, created_at, updated_by, updated_at)
			VALUES ('sit_1', 'Port', '{"type":"Polygon","coordinates":[[[30,40],[31,40],[31,41],[30,40]]]}', 'a', 't', 'a', 't')`, false, `SELECT id, area FROM sites`},
		{"a claim with a place and one without", `INSERT INTO claims (id, source_id, text, lon, lat, created_by, created_at, updated_by, updated_at)
			VALUES ('clm_1', 'src_1', 'ships', 30.5, 40.25, 'a', 't', 'a', 't'), ('clm_2', 'src_1', 'tanks', NULL, NULL, 'a', 't', 'a', 't')`,
			false, `SELECT id, lon, lat FROM claims ORDER BY id`},
		{"claims of the same time are in the order made", `INSERT INTO claims (id, source_id, text, created_by, created_at, updated_by, updated_at)
			VALUES ('clm_b', 'src_1', 'b', 'a', 't', 'a', 't')`, false, `SELECT id FROM claims ORDER BY created_at, rowid`},
		{"claims of the same time are in the order made, whatever their ids", `INSERT INTO claims (id, source_id, text, created_by, created_at, updated_by, updated_at)
			VALUES ('clm_a', 'src_1', 'a', 'a', 't', 'a', 't')`, false, `SELECT id FROM claims ORDER BY created_at, rowid`},
		{"a claim changed keeps its place in the order", `UPDATE claims SET text = 'bb', version = 2 WHERE id = 'clm_b'`, false, `SELECT id FROM claims ORDER BY created_at, rowid`},
		{"evidence of the same time is in the order made", `INSERT INTO evidence (id, claim_id, annotation_id, image_id, stance, confidence, created_by, created_at, updated_by, updated_at)
			VALUES ('evi_b', 'clm_b', 'ann_2', 'img_2', 'supports', 0.5, 'a', 't', 'a', 't'), ('evi_a', 'clm_a', 'ann_2', 'img_2', 'context', 1, 'a', 't', 'a', 't')`,
			false, `SELECT id, confidence FROM evidence ORDER BY created_at, rowid`},
		{"a claim with half a place", `INSERT INTO claims (id, source_id, text, lon, created_by, created_at, updated_by, updated_at)
			VALUES ('clm_3', 'src_1', 'jets', 30.5, 'a', 't', 'a', 't')`, true, `SELECT id FROM claims ORDER BY id`},

		json(`{"bands": [1, 2.5e3, null], "ramp": "\u00e9"}`, false),
		json(` [] `, false),
		json(`"x"`, false),
		json(`{a: 1}`, true),
		json(`{"a": 1,}`, true),
		json(`{"a": 1`, true),
		json(`{"a": 1} x`, true),
		json(``, true),
		json(`"\ud800"`, false),
	}
	for _, s := range steps {
		_, liteErr := lite.Exec(s.stmt)
		_, pgErr := pg.Exec(s.stmt)
		if (liteErr != nil) != s.fails || (pgErr != nil) != s.fails {
			t.Errorf("%s: want failing %v; SQLite: %v, PostgreSQL: %v", s.name, s.fails, liteErr, pgErr)
		}
		// A refusal is a constraint's on both (SQLSTATE class 23, integrity constraint
		// violation), so the store can tell it from a failure of the database.
		var pe *pgconn.PgError
		if s.fails && (!isConstraintViolation(liteErr) || !errors.As(pgErr, &pe) || !strings.HasPrefix(pe.Code, "23")) {
			t.Errorf("%s: want a constraint's refusal on both; SQLite: %v, PostgreSQL: %v", s.name, liteErr, pgErr)
		}
		if got, want := rows(t, pg, s.query), rows(t, lite, s.query); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s\n PostgreSQL %q\n SQLite     %q", s.name, s.query, got, want)
		}
	}

	// What PostGIS makes of the places: the site's area contains a point inside it, the
	// claim's point is where it says, and the claim without a place has none.
	got := rows(t, pg, `SELECT s.id, c.id FROM sites s JOIN claims c ON ST_Intersects(s.area_geom, c.place) ORDER BY 1, 2`)
	if want := []string{"sit_1|clm_1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sites meeting claims: got %q, want %q", got, want)
	}
	got = rows(t, pg, `SELECT id, COALESCE(ST_AsText(place), ''), COALESCE(ST_SRID(place), 0) FROM claims WHERE id IN ('clm_1', 'clm_2') ORDER BY id`)
	if want := []string{"clm_1|POINT(30.5 40.25)|4326", "clm_2||0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("claims' places: got %q, want %q", got, want)
	}
}

type step struct {
	name  string
	stmt  string
	fails bool
	query string // read after the statement, on both
}
