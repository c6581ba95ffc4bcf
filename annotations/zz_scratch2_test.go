package annotations

import (
	"context"
	"testing"
	"time"
)

func TestScratchRawInsert(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	s.db.Exec(`CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b TEXT)`)
	tx, _ := s.db.BeginTx(ctx, nil)
	start, c0 := time.Now(), cpuNow()
	for i := 0; i < 30000; i++ {
		tx.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?)`, newUUID(), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy")
	}
	tx.Commit()
	t.Logf("wall %v cpu %v", time.Since(start), cpuNow()-c0)
}
