package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/pgtest"
	"github.com/satmark/satmark/server"
)

// Two satmark processes on one database (two Stores, two Servers) behind one address
// share the sign-in throttle: an attacker alternating between them gets no more attempts
// than from one. On PostgreSQL, and on SQLite with two Stores on one file.
func TestSignInThrottleIsSharedByProcesses(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			database := filepath.Join(dir, "satmark.db")
			if backend == "postgres" {
				database = pgtest.DSN(t)
			}
			clock := newTestClock()
			limits := func(o *server.Options) {
				o.Now, o.FailuresPerAccount, o.FailuresPerAddress = clock.Now, 4, 6
			}
			var procs [2]*testServer
			for i := range procs {
				store, err := annotations.Open(database)
				if err != nil {
					t.Fatalf("open store #%d: %v", i+1, err)
				}
				t.Cleanup(func() { store.Close() })
				procs[i] = newTestServerOver(t, store, dir, imagery.Options{Limits: smallLimits}, os.DirFS("../web"), limits)
			}
			a, b := procs[0], procs[1]
			a.addUser(t, "ana", annotations.RoleAnalyst)

			// Four wrong passwords for ana, two through each process: the account's limit.
			for i := range 4 {
				rec := procs[i%2].serve(signInRequest(false, "ana", fmt.Sprintf("guess %d", i), ""))
				wantError(t, rec, http.StatusUnauthorized, "wrong_credentials", "")
			}
			for i, p := range procs {
				if rec := p.serve(signInRequest(false, "ana", testPassword, "")); rec.Code != http.StatusTooManyRequests {
					t.Errorf("process %d: ana with the right password after 4 failures over both: status %d, want 429", i+1, rec.Code)
				}
			}

			// One address trying names: its six failures over both processes hold it.
			for i := range 2 {
				rec := procs[i%2].serve(signInRequest(false, fmt.Sprintf("nobody%d", i), "password123", ""))
				wantError(t, rec, http.StatusUnauthorized, "wrong_credentials", "")
			}
			rec := b.serve(signInRequest(false, "nobody9", "password123", ""))
			wantThrottled(t, rec, false)
			// Another address is not held up.
			wantStatus(t, b.serve(signInRequest(false, "nobody9", "password123", "203.0.113.5:1234")), http.StatusUnauthorized)

			// After the window, ana signs in through the other process, which clears her
			// count for both.
			clock.advance(15*time.Minute + time.Second)
			wantStatus(t, b.serve(signInRequest(false, "ana", testPassword, "198.51.100.1:1")), http.StatusCreated)
			for i := range 3 {
				wantError(t, a.serve(signInRequest(false, "ana", fmt.Sprintf("again %d", i), "198.51.100.1:1")), http.StatusUnauthorized, "wrong_credentials", "")
			}
			wantStatus(t, a.serve(signInRequest(false, "ana", testPassword, "198.51.100.1:1")), http.StatusCreated)
		})
	}
}
