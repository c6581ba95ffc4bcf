package annotations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// Copying a SQLite store into a PostgreSQL one (satmark migrate-to): every table but
// schema_migrations, row for row, in one transaction on the target, then checked by
// counting and hashing the rows of each table on both sides.

// ErrTargetNotEmpty is returned (wrapped, naming a table that has rows) by CopyTo when
// the target already holds data: the copy goes into an empty database only.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// derivedTables are filled by the target's own triggers as the rows they count are
// written (review counts by annotations, the taxonomy stamp by labels, and its one row by
// the migration); the copy turns those triggers off, empties the tables and copies them
// last, from the source.
var derivedTables = map[string]bool{"image_review_counts": true, "label_stamp": true}

// TableCopy is what CopyTo copied into one table.
type TableCopy struct {
	Table string
	Rows  int
}

// tableInfo is one SQLite table: its columns in order and the tables it refers to.
type tableInfo struct {
	name     string
	columns  []string
	parents  []string // tables its foreign keys refer to, itself excluded
	selfFrom string   // a column referring to the table itself ("" when none)
	selfTo   string   // the column it refers to
}

// CopyTo copies every row of s (a SQLite store) into dst (a PostgreSQL store, migrated
// and empty) in one transaction on dst: an error leaves dst as it was. The identity
// sequences are moved past the copied ids. It returns the rows copied per table, in the
// order copied.
func (s *Store) CopyTo(ctx context.Context, dst *Store) ([]TableCopy, error) {
	if s.d.postgres || !dst.d.postgres {
		return nil, errors.New("copy: the source must be a SQLite store and the target a PostgreSQL one")
	}
	tables, err := s.copyOrder(ctx)
	if err != nil {
		return nil, err
	}
	if err := dst.checkEmpty(ctx, tables); err != nil {
		return nil, err
	}
	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The target's triggers keep derived tables (review counts, the taxonomy stamp) as
	// rows are written; the copy takes those tables from the source instead, so they are
	// off until it is done. Left on, each copied annotation rewrote its image's counts
	// row: one transaction's thousands of versions of one row, each write slower than the
	// last (2,000 annotations a second at 100,000 of them, on the way down).
	if err := setUserTriggers(ctx, tx, tables, "DISABLE"); err != nil {
		return nil, err
	}
	var copied []TableCopy
	for _, t := range tables {
		if derivedTables[t.name] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.name); err != nil {
				return nil, fmt.Errorf("copy %s: %w", t.name, err)
			}
		}
		n, err := s.copyTable(ctx, tx, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		copied = append(copied, TableCopy{Table: t.name, Rows: n})
	}
	if err := resetIdentities(ctx, tx); err != nil {
		return nil, err
	}
	if err := setUserTriggers(ctx, tx, tables, "ENABLE"); err != nil {
		return nil, err
	}
	return copied, tx.Commit()
}

// setUserTriggers turns the user triggers of the tables off (DISABLE) or on (ENABLE) in
// tx: ALTER TABLE is transactional, so a copy that fails leaves them on.
func setUserTriggers(ctx context.Context, tx *sql.Tx, tables []tableInfo, how string) error {
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+t.name+` `+how+` TRIGGER USER`); err != nil {
			return fmt.Errorf("%s the triggers of %s: %w", strings.ToLower(how), t.name, err)
		}
	}
	return nil
}

// checkEmpty refuses a target with a row in any of tables (label_stamp's one row, made
// by the migration, does not count).
func (s *Store) checkEmpty(ctx context.Context, tables []tableInfo) error {
	for _, t := range tables {
		if t.name == "label_stamp" {
			continue
		}
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM `+t.name+` LIMIT 1`).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: its table %s has rows; migrate-to copies into a new, empty database only (nothing was written)", ErrTargetNotEmpty, t.name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look into the target's table %s (is its schema satmark's?): %w", t.name, err)
		}
	}
	return nil
}

// copyOrder lists the SQLite tables with their columns, each after the tables it refers
// to, the derived ones last.
func (s *Store) copyOrder(ctx context.Context) ([]tableInfo, error) {
	names, err := s.tableNames(ctx)
	if err != nil {
		return nil, err
	}
	info := map[string]*tableInfo{}
	for _, name := range names {
		t := &tableInfo{name: name}
		rows, err := s.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			t.columns = append(t.columns, c)
		}
		rows.Close()
		fks, err := s.db.QueryContext(ctx, `SELECT "table", "from", COALESCE("to", '') FROM pragma_foreign_key_list(?)`, name)
		if err != nil {
			return nil, err
		}
		for fks.Next() {
			var parent, from, to string
			if err := fks.Scan(&parent, &from, &to); err != nil {
				fks.Close()
				return nil, err
			}
			if parent == name {
				t.selfFrom, t.selfTo = from, to
			} else {
				t.parents = append(t.parents, parent)
			}
		}
		fks.Close()
		info[name] = t
	}
	var order []tableInfo
	done := map[string]bool{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		if done[name] {
			return nil
		}
		for _, p := range path {
			if p == name {
				return fmt.Errorf("copy: the tables' foreign keys go round in a circle: %s", strings.Join(append(path, name), " → "))
			}
		}
		t, ok := info[name]
		if !ok {
			return fmt.Errorf("copy: a foreign key refers to %s, which is no table", name)
		}
		for _, p := range t.parents {
			if err := visit(p, append(path, name)); err != nil {
				return err
			}
		}
		done[name] = true
		order = append(order, *t)
		return nil
	}
	for _, name := range names {
		if !derivedTables[name] {
			if err := visit(name, nil); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range names {
		if derivedTables[name] {
			order = append(order, *info[name])
		}
	}
	return order, nil
}

// tableNames lists the store's tables, by name, schema_migrations left out.
func (s *Store) tableNames(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`
	if s.d.postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
			AND table_name NOT IN ('schema_migrations', 'spatial_ref_sys') ORDER BY table_name`
	}
	return queryStrings(ctx, s.db, q)
}

// copyBatch is how many rows one INSERT carries (PostgreSQL takes at most 65535
// parameters a statement).
const copyBatch = 200

// copyTable copies t's rows from s into tx, in rowid order (claims and evidence number
// their rows again in that order), a row referring to one of its own table after it.
func (s *Store) copyTable(ctx context.Context, tx *sql.Tx, t tableInfo) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(quoted(t.columns), ", ")+` FROM `+t.name+` ORDER BY rowid`)
	if err != nil {
		// A WITHOUT ROWID table is read in its key's order.
		rows, err = s.db.QueryContext(ctx, `SELECT `+strings.Join(quoted(t.columns), ", ")+` FROM `+t.name)
	}
	if err != nil {
		return 0, err
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.columns)), ", ") + ")"
	insert := func(batch [][]any) error {
		var args []any
		for _, vals := range batch {
			args = append(args, vals...)
		}
		q := `INSERT INTO ` + t.name + ` (` + strings.Join(quoted(t.columns), ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ")
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	// Rows go in batches as they are read, but a table referring to itself is read whole
	// first, to be put in order.
	var batch [][]any
	n := 0
	for rows.Next() {
		vals := make([]any, len(t.columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, vals)
		n++
		if t.selfFrom == "" && len(batch) == copyBatch {
			if err := insert(batch); err != nil {
				rows.Close()
				return 0, err
			}
			batch = batch[:0]
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if t.selfFrom != "" {
		if batch, err = parentsFirst(t, batch); err != nil {
			return 0, err
		}
	}
	for start := 0; start < len(batch); start += copyBatch {
		if err := insert(batch[start:min(start+copyBatch, len(batch))]); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// parentsFirst orders rows of t so that a row referring to another of t (t.selfFrom →
// t.selfTo) comes after it.
func parentsFirst(t tableInfo, rows [][]any) ([][]any, error) {
	from, to := indexOf(t.columns, t.selfFrom), indexOf(t.columns, t.selfTo)
	if from < 0 || to < 0 {
		return nil, fmt.Errorf("the self-reference %s → %s names no column", t.selfFrom, t.selfTo)
	}
	placed := map[string]bool{}
	out := make([][]any, 0, len(rows))
	for len(rows) > 0 {
		var left [][]any
		for _, r := range rows {
			if r[from] == nil || placed[fmt.Sprint(r[from])] {
				placed[fmt.Sprint(r[to])] = true
				out = append(out, r)
			} else {
				left = append(left, r)
			}
		}
		if len(left) == len(rows) {
			return nil, fmt.Errorf("%d rows refer to rows of %s that are not there", len(left), t.name)
		}
		rows = left
	}
	return out, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func quoted(cols []string) []string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = `"` + c + `"`
	}
	return q
}

// resetIdentities moves every identity sequence the copy wrote ids into past the
// largest, so that the next row the store adds gets a new id.
func resetIdentities(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' AND identity_generation = 'BY DEFAULT'`)
	if err != nil {
		return err
	}
	var pairs [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		pairs = append(pairs, [2]string{t, c})
	}
	rows.Close()
	for _, p := range pairs {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+p[0]+`', '`+p[1]+`'), COALESCE(MAX("`+p[1]+`"), 0) + 1, false) FROM `+p[0]); err != nil {
			return fmt.Errorf("move the id sequence of %s.%s: %w", p[0], p[1], err)
		}
	}
	return nil
}

// TableCheck compares one table on both sides of a copy: its rows counted, and a
// SHA-256 over its rows (each row's values hashed, the row hashes added up, so the order
// the databases return them in does not matter).
type TableCheck struct {
	Table             string
	SourceRows, Rows  int
	SourceHash, Hash  string
	MissingFromTarget bool
	MissingFromSource bool
}

// Same reports whether the table is the same on both sides.
func (c TableCheck) Same() bool {
	return !c.MissingFromSource && !c.MissingFromTarget && c.SourceRows == c.Rows && c.SourceHash == c.Hash
}

// CompareTables compares every table of s (the source of a copy) with dst's, by the
// columns s has (dst's own generated columns left out), and every table dst has that s
// has not (schema_migrations aside).
func (s *Store) CompareTables(ctx context.Context, dst *Store) ([]TableCheck, error) {
	tables, err := s.copyOrder(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].name < tables[j].name })
	theirs, err := dst.tableNames(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range theirs {
		have[n] = true
	}
	var checks []TableCheck
	for _, t := range tables {
		c := TableCheck{Table: t.name}
		if c.SourceRows, c.SourceHash, err = s.tableHash(ctx, t); err != nil {
			return nil, fmt.Errorf("hash the source's %s: %w", t.name, err)
		}
		if !have[t.name] {
			c.MissingFromTarget = true
		} else if c.Rows, c.Hash, err = dst.tableHash(ctx, t); err != nil {
			return nil, fmt.Errorf("hash the target's %s: %w", t.name, err)
		}
		delete(have, t.name)
		checks = append(checks, c)
	}
	for _, n := range theirs {
		if have[n] {
			checks = append(checks, TableCheck{Table: n, MissingFromSource: true})
		}
	}
	return checks, nil
}

// tableHash counts t's rows in s and hashes them by t's columns.
func (s *Store) tableHash(ctx context.Context, t tableInfo) (int, string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(quoted(t.columns), ", ")+` FROM `+t.name)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	var sum rowSum
	n := 0
	vals := make([]any, len(t.columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var buf bytes.Buffer
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		buf.Reset()
		for _, v := range vals {
			canonicalValue(&buf, v)
		}
		sum.add(sha256.Sum256(buf.Bytes()))
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	h := sha256.Sum256(sum.bytes())
	return n, hex.EncodeToString(h[:]), nil
}

// rowSum is the sum, modulo 2²⁵⁶, of a table's row hashes: the same whatever order the
// rows come in, a row twice counted twice, and held in 32 bytes however many rows are
// read (a sorted list of the hashes took 32 bytes a row).
type rowSum [4]uint64

// add adds one row's hash, read as a big-endian number.
func (s *rowSum) add(h [sha256.Size]byte) {
	var carry uint64
	for i := 3; i >= 0; i-- {
		s[i], carry = bits.Add64(s[i], binary.BigEndian.Uint64(h[8*i:]), carry)
	}
}

func (s *rowSum) bytes() []byte {
	b := make([]byte, 32)
	for i, v := range s {
		binary.BigEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// canonicalValue writes v as the same bytes whichever driver read it: a type letter, the
// length and the value (integers in decimal, floats in Go's shortest form, text and bytes
// as they are).
func canonicalValue(buf *bytes.Buffer, v any) {
	var kind byte
	var text []byte
	switch x := v.(type) {
	case nil:
		kind = 'N'
	case int64:
		kind, text = 'I', strconv.AppendInt(nil, x, 10)
	case int32:
		kind, text = 'I', strconv.AppendInt(nil, int64(x), 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			// A whole REAL may come back from either side as an integer-valued float.
			kind, text = 'F', strconv.AppendFloat(nil, x, 'f', 0, 64)
		} else {
			kind, text = 'F', strconv.AppendFloat(nil, x, 'g', -1, 64)
		}
	case string:
		kind, text = 'T', []byte(x)
	case []byte:
		// SQLite keeps text written from a Go []byte as a BLOB, in a TEXT column too:
		// the same bytes as PostgreSQL's text (a column's type is one on both sides).
		kind, text = 'T', x
	case bool:
		kind, text = 'I', []byte("0")
		if x {
			text = []byte("1")
		}
	default:
		kind, text = '?', []byte(fmt.Sprint(x))
	}
	buf.WriteByte(kind)
	var n [binary.MaxVarintLen64]byte
	buf.Write(n[:binary.PutUvarint(n[:], uint64(len(text)))])
	buf.Write(text)
}
