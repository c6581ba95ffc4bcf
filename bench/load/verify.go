package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "github.com/mattn/go-sqlite3"
)

// database is where satmark keeps the annotations: its SQLite file, or a PostgreSQL DSN.
type database struct {
	path string // the SQLite file; "" on PostgreSQL
	dsn  string // postgres://…; "" on SQLite
}

func (d database) postgres() bool { return d.dsn != "" }

// open opens it for reading: SQLite read-only (with write-ahead logging that works beside
// a running server), PostgreSQL through pgx.
func (d database) open() (*sql.DB, error) {
	if d.postgres() {
		return sql.Open("pgx", d.dsn)
	}
	return openReadOnly(d.path)
}

// verification is what the checks of the database found at one point of a run.
type verification struct {
	When        string
	Integrity   []string // PRAGMA integrity_check's rows: just "ok" when all is well
	ForeignKeys int      // rows of PRAGMA foreign_key_check
	Rows        int      // annotations in the table
	Revisions   int
	Histories   int            // annotations with at least one revision
	Acked       map[string]int // acknowledged writes checked, by operation
	Present     int            // writes in doubt found in full
	Absent      int            // writes in doubt not there at all
	Refused     int            // refused writes (404, 412) checked absent
	APIImages   int            // images whose API list was compared with the table
	APIRows     int
	Problems    []string
}

func (v *verification) problem(format string, args ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
}

// snapshot is an annotation's stored content, as a row or as a revision's before/after,
// in a form that compares with ==.
type snapshot struct {
	ID, ImageID, LabelID, Shape    string
	Geometry, Properties           string // canonical JSON
	ReviewStatus, CreatedBy, UpdBy string
	CreatedAt, UpdatedAt           int64 // Unix nanoseconds
	Version                        int
}

// revision is one row of the revisions table.
type revision struct {
	Version       int
	Action, Actor string
	Before, After *snapshot
}

// canonical re-encodes a JSON value with sorted keys and numbers as float64, so that
// equal content compares equal as text.
func canonical(raw []byte) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func parseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UnixNano(), err
}

// parseSnapshot reads an annotation as the store writes it into a revision.
func parseSnapshot(raw string) (*snapshot, error) {
	var j struct {
		ID      string `json:"id"`
		ImageID string `json:"image_id"`
		Label   struct {
			ID string `json:"id"`
		} `json:"label"`
		Shape        string          `json:"shape"`
		Geometry     json.RawMessage `json:"geometry"`
		Properties   json.RawMessage `json:"properties"`
		ReviewStatus string          `json:"review_status"`
		CreatedBy    string          `json:"created_by"`
		CreatedAt    time.Time       `json:"created_at"`
		UpdatedBy    string          `json:"updated_by"`
		UpdatedAt    time.Time       `json:"updated_at"`
		Version      int             `json:"version"`
	}
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return nil, err
	}
	s := &snapshot{ID: j.ID, ImageID: j.ImageID, LabelID: j.Label.ID, Shape: j.Shape, ReviewStatus: j.ReviewStatus,
		CreatedBy: j.CreatedBy, UpdBy: j.UpdatedBy, CreatedAt: j.CreatedAt.UnixNano(), UpdatedAt: j.UpdatedAt.UnixNano(), Version: j.Version}
	var err error
	if s.Geometry, err = canonical(j.Geometry); err != nil {
		return nil, fmt.Errorf("geometry: %w", err)
	}
	if s.Properties, err = canonical(j.Properties); err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	return s, nil
}

// note is the snapshot's note property.
func (s *snapshot) note() string {
	var p struct {
		Note string `json:"note"`
	}
	json.Unmarshal([]byte(s.Properties), &p)
	return p.Note
}

// openReadOnly opens satmark's database read-only; with write-ahead logging that works
// beside a running server.
func openReadOnly(path string) (*sql.DB, error) {
	return sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_busy_timeout=10000")
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadRows reads every annotation row.
func loadRows(ctx context.Context, db querier) (map[string]*snapshot, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, image_id, label_id, shape, geometry, confidence, identification, note,
		attributes, review_status, created_by, created_at, updated_by, updated_at, version FROM annotations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*snapshot{}
	for rows.Next() {
		var s snapshot
		var geom, confidence, identification, note, attrs, created, updated string
		if err := rows.Scan(&s.ID, &s.ImageID, &s.LabelID, &s.Shape, &geom, &confidence, &identification, &note,
			&attrs, &s.ReviewStatus, &s.CreatedBy, &created, &s.UpdBy, &updated, &s.Version); err != nil {
			return nil, err
		}
		if s.Geometry, err = canonical([]byte(geom)); err != nil {
			return nil, fmt.Errorf("annotation %s: geometry: %w", s.ID, err)
		}
		// The API's properties are the free attributes beside confidence, identification
		// and note.
		props := map[string]any{}
		if err := json.Unmarshal([]byte(attrs), &props); err != nil {
			return nil, fmt.Errorf("annotation %s: attributes: %w", s.ID, err)
		}
		props["confidence"], props["identification"], props["note"] = confidence, identification, note
		b, _ := json.Marshal(props)
		if s.Properties, err = canonical(b); err != nil {
			return nil, err
		}
		if s.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("annotation %s: created_at: %w", s.ID, err)
		}
		if s.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, fmt.Errorf("annotation %s: updated_at: %w", s.ID, err)
		}
		out[s.ID] = &s
	}
	return out, rows.Err()
}

// loadRevisions reads every revision, by annotation and in version order.
func loadRevisions(ctx context.Context, db querier) (map[string][]revision, int, error) {
	rows, err := db.QueryContext(ctx, `SELECT annotation_id, version, action, actor, before, after FROM revisions
		ORDER BY annotation_id, version`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[string][]revision{}
	n := 0
	for rows.Next() {
		var id string
		var r revision
		var before, after sql.NullString
		if err := rows.Scan(&id, &r.Version, &r.Action, &r.Actor, &before, &after); err != nil {
			return nil, 0, err
		}
		if before.Valid {
			if r.Before, err = parseSnapshot(before.String); err != nil {
				return nil, 0, fmt.Errorf("revision %d of %s: before: %w", r.Version, id, err)
			}
		}
		if after.Valid {
			if r.After, err = parseSnapshot(after.String); err != nil {
				return nil, 0, fmt.Errorf("revision %d of %s: after: %w", r.Version, id, err)
			}
		}
		out[id] = append(out[id], r)
		n++
	}
	return out, n, rows.Err()
}

// verify checks satmark's database against the journal of writes:
//
//   - on SQLite, PRAGMA integrity_check says ok and foreign_key_check finds nothing
//     (PostgreSQL checks its foreign keys at every write);
//   - every annotation's revisions are versions 1…n with no gap: a create, updates, and
//     at most one delete, last; each revision's before is the previous one's after;
//   - an annotation row exists exactly when its last revision is not a delete, at that
//     revision's version and with its after content (no row without its revision, no
//     revision without its row);
//   - every acknowledged create and edit has its revision, with the note and geometry
//     sent; every acknowledged delete is the annotation's last revision and its row is
//     gone;
//   - every write in doubt is there in full (its revision, at the version it was based
//     on plus one) or not at all; every refused write is not there.
func verify(ctx context.Context, store database, writes []write) (*verification, error) {
	v := &verification{Acked: map[string]int{}}
	db, err := store.open()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// One read transaction: every query below sees the same snapshot.
	opts := &sql.TxOptions{ReadOnly: true}
	if store.postgres() {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !store.postgres() {
		if err := sqliteChecks(ctx, v, tx); err != nil {
			return nil, err
		}
	}
	if err := checkContent(ctx, v, tx, writes); err != nil {
		return nil, err
	}
	return v, nil
}

// sqliteChecks runs PRAGMA integrity_check and foreign_key_check.
func sqliteChecks(ctx context.Context, v *verification, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		v.Integrity = append(v.Integrity, s)
	}
	rows.Close()
	if len(v.Integrity) != 1 || v.Integrity[0] != "ok" {
		v.problem("PRAGMA integrity_check: %v", v.Integrity)
	}
	rows, err = tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	for rows.Next() {
		v.ForeignKeys++
	}
	rows.Close()
	if v.ForeignKeys > 0 {
		v.problem("PRAGMA foreign_key_check: %d rows refer to nothing", v.ForeignKeys)
	}

	return nil
}

// checkContent checks the annotations, their revisions and the comments against the
// journal, in one read transaction.
func checkContent(ctx context.Context, v *verification, tx *sql.Tx, writes []write) error {
	current, err := loadRows(ctx, tx)
	if err != nil {
		return err
	}
	history, n, err := loadRevisions(ctx, tx)
	if err != nil {
		return err
	}
	v.Rows, v.Revisions, v.Histories = len(current), n, len(history)

	// Whole histories, and rows against them.
	ids := make([]string, 0, len(history))
	for id := range history {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		checkHistory(v, id, history[id], current[id])
	}
	for id := range current {
		if len(history[id]) == 0 {
			v.problem("annotation %s: a row without any revision", id)
		}
	}

	// Which revision carries each note, to find writes by their marker.
	byNote := map[string][]struct {
		id  string
		rev revision
	}{}
	for id, revs := range history {
		for _, r := range revs {
			if r.After != nil {
				n := r.After.note()
				byNote[n] = append(byNote[n], struct {
					id  string
					rev revision
				}{id, r})
			}
		}
	}
	revAt := func(id string, version int) *revision {
		revs := history[id]
		if version < 1 || version > len(revs) || revs[version-1].Version != version {
			return nil
		}
		return &revs[version-1]
	}
	sameGeometry := func(w write, s *snapshot) bool {
		if w.Geometry == nil {
			return true
		}
		g, err := canonical(w.Geometry)
		return err == nil && g == s.Geometry
	}

	// Comments by their text (each carries a unique marker), with the annotation and author.
	comments := map[string][]string{}
	crows, err := tx.QueryContext(ctx, `SELECT body, annotation_id || ' by ' || author FROM comments`)
	if err != nil {
		return fmt.Errorf("reading comments: %w", err)
	}
	for crows.Next() {
		var body, on string
		if err := crows.Scan(&body, &on); err != nil {
			crows.Close()
			return err
		}
		comments[body] = append(comments[body], on)
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return err
	}

	for _, w := range writes {
		if w.Op == opComment {
			checkComment(v, w, comments[w.Note])
			continue
		}
		switch {
		case w.Outcome == acked && (w.Op == opCreate || w.Op == opEdit):
			v.Acked[w.Op]++
			want := map[string]string{opCreate: "create", opEdit: "update"}[w.Op]
			r := revAt(w.ID, w.Version)
			switch {
			case r == nil:
				v.problem("acknowledged %s of %s (version %d, %s): no revision %d", w.Op, w.ID, w.Version, w.Note, w.Version)
			case r.Action != want || r.Actor != w.Analyst || r.After == nil || r.After.note() != w.Note || !sameGeometry(w, r.After):
				v.problem("acknowledged %s of %s (version %d, %s): revision %d is a %s by %s with other content", w.Op, w.ID, w.Version, w.Note, w.Version, r.Action, r.Actor)
			}
		case w.Outcome == acked && w.Op == opDelete:
			v.Acked[w.Op]++
			revs := history[w.ID]
			switch last := len(revs); {
			case current[w.ID] != nil:
				v.problem("acknowledged delete of %s (at version %d): the annotation is still there", w.ID, w.Version)
			case last != w.Version+1 || revs[last-1].Action != "delete" || revs[last-1].Actor != w.Analyst:
				v.problem("acknowledged delete of %s (at version %d): its last revision is not that delete (%d revisions)", w.ID, w.Version, last)
			}
		case w.Op == opCreate || w.Op == opEdit:
			found := byNote[w.Note]
			ok := len(found) == 0
			if len(found) == 1 {
				r := found[0].rev
				if w.Op == opCreate {
					ok = r.Action == "create" && r.Version == 1
				} else {
					ok = found[0].id == w.ID && r.Action == "update" && r.Version == w.Version+1
				}
				ok = ok && r.Actor == w.Analyst && sameGeometry(w, r.After)
			}
			switch {
			case !ok:
				v.problem("%s %s %s (%s): found %d revisions with its note, not 0 or its own", w.Outcome, w.Op, w.ID, w.Note, len(found))
			case w.Outcome == refused && len(found) > 0:
				v.problem("refused %s %s (%s, status %d) is in the database", w.Op, w.ID, w.Note, w.Status)
			case w.Outcome == refused:
				v.Refused++
			case len(found) > 0:
				v.Present++
			default:
				v.Absent++
			}
		case w.Op == opDelete:
			r := revAt(w.ID, w.Version+1)
			mine := r != nil && r.Action == "delete" && r.Actor == w.Analyst
			v.unacknowledged(w, mine, fmt.Sprintf("delete of %s at version %d", w.ID, w.Version))
		}
	}
	return nil
}

// checkComment checks a comment write against the stored comments with its text.
func checkComment(v *verification, w write, found []string) {
	want := w.ID + " by " + w.Analyst
	mine := len(found) == 1 && found[0] == want
	switch {
	case len(found) > 0 && !mine:
		v.problem("%s comment %s on %s: found %v, not 0 or its own", w.Outcome, w.Note, w.ID, found)
	case w.Outcome == acked && !mine:
		v.problem("acknowledged comment %s on %s: not in the database", w.Note, w.ID)
	case w.Outcome == acked:
		v.Acked[opComment]++
	default:
		v.unacknowledged(w, mine, fmt.Sprintf("comment %s on %s", w.Note, w.ID))
	}
}

// unacknowledged counts a write that was refused (it must not be there) or left in
// doubt (there in full, mine, or not at all).
func (v *verification) unacknowledged(w write, mine bool, what string) {
	switch {
	case w.Outcome == refused && mine:
		v.problem("refused %s (status %d) is in the database", what, w.Status)
	case w.Outcome == refused:
		v.Refused++
	case mine:
		v.Present++
	default:
		v.Absent++
	}
}

// checkHistory checks one annotation's revisions and its row (nil when there is none).
func checkHistory(v *verification, id string, revs []revision, row *snapshot) {
	for i, r := range revs {
		last := i == len(revs)-1
		var prev *snapshot
		if i > 0 {
			prev = revs[i-1].After
		}
		switch {
		case r.Version != i+1:
			v.problem("annotation %s: revision %d where %d belongs (a gap in its history)", id, r.Version, i+1)
			return
		case i == 0 && (r.Action != "create" || r.Before != nil || r.After == nil):
			v.problem("annotation %s: revision 1 is a %s, not a create", id, r.Action)
			return
		case i > 0 && r.Action == "create":
			v.problem("annotation %s: revision %d is a second create", id, r.Version)
			return
		case i > 0 && (r.Before == nil || *r.Before != *prev):
			v.problem("annotation %s: revision %d's before is not revision %d's after", id, r.Version, i)
			return
		case r.Action != "delete" && (r.After == nil || r.After.Version != r.Version || r.After.ID != id):
			v.problem("annotation %s: revision %d's after is not version %d", id, r.Version, r.Version)
			return
		case r.Action == "delete" && (!last || r.After != nil):
			v.problem("annotation %s: revision %d deletes it but is not its last (or has an after)", id, r.Version)
			return
		}
	}
	last := revs[len(revs)-1]
	switch {
	case last.Action == "delete" && row != nil:
		v.problem("annotation %s: deleted at revision %d but the row is still there (version %d)", id, last.Version, row.Version)
	case last.Action != "delete" && row == nil:
		v.problem("annotation %s: revision %d (%s) says it exists but there is no row (half-present)", id, last.Version, last.Action)
	case row != nil && *row != *last.After:
		v.problem("annotation %s: the row (version %d) differs from its last revision's after (version %d)", id, row.Version, last.Version)
	}
}

// compareAPI checks that a running server lists, for each image, exactly the
// annotations (id, version, note) the database holds.
func compareAPI(ctx context.Context, v *verification, client *http.Client, base, token string, store database, images []image) error {
	db, err := store.open()
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := loadRows(ctx, db)
	if err != nil {
		return err
	}
	type entry struct {
		version int
		note    string
	}
	for _, im := range images {
		want := map[string]entry{}
		for id, r := range rows {
			if r.ImageID == im.ID {
				want[id] = entry{r.Version, noteOf(r.Properties)}
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/images/"+im.ID+"/annotations", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("the restarted server: %w", err)
		}
		var got []annotationJSON
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			v.problem("GET /api/v1/images/%s/annotations: %s (%v)", im.ID, resp.Status, err)
			continue
		}
		diff := 0
		for _, a := range got {
			if w, ok := want[a.ID]; !ok || w != (entry{a.Version, a.Properties.Note}) {
				diff++
			}
			delete(want, a.ID)
		}
		diff += len(want)
		if diff > 0 {
			v.problem("GET /api/v1/images/%s/annotations: %d annotations differ from the database", im.ID, diff)
		}
		v.APIImages++
		v.APIRows += len(got)
	}
	return nil
}

func noteOf(properties string) string { return (&snapshot{Properties: properties}).note() }
