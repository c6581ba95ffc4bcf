package main

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/satmark/satmark/pgtest"
)

// satmark serve with SATMARK_DATABASE keeps its accounts and annotations in that
// PostgreSQL database: the schema is made there, the first administrator is written
// there, and no SQLite file appears in the data folder.
func TestServeOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	data := t.TempDir()
	srv := startServeProcess(t, data, "SATMARK_DATABASE="+dsn, "SATMARK_ADMIN_PASSWORD=chosen in advance")
	res, err := http.Get(srv.url + "/api/v1/health")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health check: %v %v", res, err)
	}
	res.Body.Close()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var migrations, admins int
	if err := db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&migrations); err != nil || migrations == 0 {
		t.Errorf("schema_migrations in PostgreSQL: got %d rows (%v), want the applied pgmigrations", migrations, err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM users WHERE role = 'admin'`).Scan(&admins); err != nil || admins != 1 {
		t.Errorf("administrators in PostgreSQL: got %d (%v), want 1", admins, err)
	}
	if _, err := os.Stat(filepath.Join(data, "satmark.db")); !os.IsNotExist(err) {
		t.Errorf("satmark.db in the data folder: got %v, want none (the database is PostgreSQL)", err)
	}
}
