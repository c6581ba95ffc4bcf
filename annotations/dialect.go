package annotations

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
)

// The Store runs one set of queries, written for SQLite with ? placeholders, on SQLite or
// on PostgreSQL. A dialect holds what differs: the few SQL fragments the two spell
// differently, how each reports a refused write, and which SQLite-only parts (pragmas,
// online backup, the integrity check) there are. Placeholders are rewritten to $1, $2, …
// by the PostgreSQL connection itself (pgConn), so no query is written twice.
type dialect struct {
	postgres bool

	// Queries built once per dialect from the fragments below.
	imageColumns, firstClaim, keptReviewCounts string
	// skipLocked ends a SELECT whose rows the transaction will update and another may be
	// claiming at once: FOR UPDATE SKIP LOCKED on PostgreSQL; nothing on SQLite, whose
	// writing transactions hold the one write lock from their start.
	skipLocked string
}

var (
	sqliteDialect   = newDialect(false)
	postgresDialect = newDialect(true)
)

func newDialect(postgres bool) *dialect {
	d := &dialect{postgres: postgres}
	if postgres {
		d.skipLocked = ` FOR UPDATE SKIP LOCKED`
	}
	// firstClaim selects the text of the first claim of the release s, "" when it has
	// none: Source.Claim. (PostgreSQL's claims have a rowid column for this order.)
	d.firstClaim = `COALESCE((SELECT c.text FROM claims c WHERE c.source_id = s.id ORDER BY c.created_at, c.rowid LIMIT 1), '')`
	// keptReviewCounts, followed by an image id, selects that image's counts by review
	// state as "status=n,…" (see parseReviewCounts).
	d.keptReviewCounts = `SELECT COALESCE(` + d.groupConcat(`c.review_status || '=' || c.n`) + `, '') FROM image_review_counts c WHERE c.image_id = `
	d.imageColumns = `i.id, i.sha256, i.title, i.filename, i.media_type, i.byte_size, i.width, i.height, i.orientation,
	i.captured_from, i.captured_to, i.location_name, i.publisher_markup, i.gsd_m, i.created_by, i.created_at, i.updated_at,
	s.id, s.publisher, s.title, s.url, s.released_at, s.credit, s.license, ` + d.firstClaim + `, s.notes, s.created_at,
	COALESCE(j.state, ''), COALESCE(j.progress, 0), COALESCE(j.error, ''), COALESCE(j.attempts, 0),
	EXISTS (SELECT 1 FROM georeferences g WHERE g.image_id = i.id), i.import_warnings,
	(` + d.keptReviewCounts + `i.id),
	i.file_metadata, i.captured_source, i.sidecars`
	return d
}

// Backend names the database the store runs on: "sqlite" or "postgres".
func (s *Store) Backend() string {
	if s.d.postgres {
		return "postgres"
	}
	return "sqlite"
}

// ErrSQLiteOnly is returned (wrapped, with what to do instead) by the maintenance that
// only SQLite has: the online backup, the integrity and foreign-key checks.
var ErrSQLiteOnly = fmt.Errorf("only a SQLite store can do this: %w", errors.ErrUnsupported)

// requireSQLite returns nil on SQLite and, on PostgreSQL, an error naming what was asked
// and what to use instead, wrapping ErrSQLiteOnly.
func (s *Store) requireSQLite(what, instead string) error {
	if !s.d.postgres {
		return nil
	}
	return fmt.Errorf("%s runs on SQLite only (this store is PostgreSQL; %s): %w", what, instead, ErrSQLiteOnly)
}

// nocase is expr compared and sorted ignoring ASCII case, as the unique indexes on names
// do: SQLite's NOCASE; lower() under the "C" collation in PostgreSQL (ASCII only, as
// NOCASE, whatever the server's locale), which is what pgmigrations indexes.
func (d *dialect) nocase(expr string) string {
	if d.postgres {
		return `lower(` + expr + ` COLLATE "C")`
	}
	return expr + ` COLLATE NOCASE`
}

// jsonText is the text of the member key of the JSON object in column col (NULL when
// there is none, or col is NULL).
func (d *dialect) jsonText(col, key string) string {
	if d.postgres {
		return `(CAST(` + col + ` AS jsonb) ->> '` + key + `')`
	}
	return `json_extract(` + col + `, '$.` + key + `')`
}

// jsonEach is a table of the members of the JSON object in col, with a key column.
func (d *dialect) jsonEach(col string) string {
	if d.postgres {
		return `jsonb_each(CAST(` + col + ` AS jsonb))`
	}
	return `json_each(` + col + `)`
}

// groupConcat joins the values of expr over a group with commas, in no set order.
func (d *dialect) groupConcat(expr string) string {
	if d.postgres {
		return `string_agg(CAST(` + expr + ` AS TEXT), ',')`
	}
	return `group_concat(` + expr + `)`
}

// isUniqueViolation reports whether err is the database refusing a duplicate.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	return pgCode(err) == "23505"
}

// isConstraintViolation reports whether err is the database refusing a write by a
// constraint (unique, foreign key, check, trigger): SQLSTATE class 23 in PostgreSQL.
func isConstraintViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrConstraint
	}
	return strings.HasPrefix(pgCode(err), "23")
}

// isForeignKeyViolation reports whether err is the database refusing a dangling reference.
func isForeignKeyViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintForeignKey
	}
	return pgCode(err) == "23503"
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgConnector opens pgx connections that take the Store's SQLite-spelled queries.
type pgConnector struct {
	driver.Connector
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn)}, nil
}

// pgConn is a pgx connection that numbers a query's ? placeholders ($1, $2, …) and
// writes Go bools as 0/1, as SQLite does: the flag columns are INTEGER in both schemas.
type pgConn struct {
	*stdlib.Conn
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) > 0 {
		query = numberPlaceholders(query)
	}
	return c.Conn.ExecContext(ctx, query, args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		query = numberPlaceholders(query)
	}
	return c.Conn.QueryContext(ctx, query, args)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, numberPlaceholders(query))
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
	}
	return c.Conn.CheckNamedValue(nv)
}

// numbered caches numberPlaceholders by query text. Most queries are constants; the
// ones built with a list of n placeholders are a few shapes each. The cache stops
// growing at maxNumbered entries (a query not kept is numbered again each time).
var (
	numbered      sync.Map
	numberedCount atomic.Int64
)

const maxNumbered = 4096

// numberPlaceholders rewrites the ? placeholders of query to $1, $2, … in order, leaving
// alone a ? inside a string literal, a quoted identifier or a comment.
func numberPlaceholders(query string) string {
	if q, ok := numbered.Load(query); ok {
		return q.(string)
	}
	q := renumber(query)
	if numberedCount.Load() < maxNumbered {
		if _, loaded := numbered.LoadOrStore(query, q); !loaded {
			numberedCount.Add(1)
		}
	}
	return q
}

func renumber(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+1])
			i += end
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+4])
			i += end + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
