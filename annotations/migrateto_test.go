package annotations

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
)

// TestCopyWritesDerivedRowsOnce: copying thousands of annotations of one image writes
// the target's review counts once each, from the source, not once per annotation
// copied through the counting trigger (which made one transaction hold thousands of
// versions of one row, each write slower than the last): the counts table is one page
// after the copy, and the counts are right; the triggers count again afterwards.
func TestCopyWritesDerivedRowsOnce(t *testing.T) {
	ctx := context.Background()
	src := openStoreOn(t, "sqlite")
	dst := openStoreOn(t, "postgres")
	img := addImage(t, src, "scene", 2000, 2000, Provenance{})
	addLabel(t, src, "vessel")
	ins := make([]AnnotationInput, 3000)
	for i := range ins {
		ins[i] = AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint),
			Geometry: json.RawMessage(fmt.Sprintf(`{"type": "Point", "coordinates": [%d, %d]}`, i%1000+1, i/1000+1))}
	}
	if _, err := src.CreateAnnotations(ctx, "alice", img.ID, ins); err != nil {
		t.Fatal(err)
	}
	if _, err := src.CopyTo(ctx, dst); err != nil {
		t.Fatalf("copy: %v", err)
	}
	var pages int
	if err := dst.db.QueryRowContext(ctx, `SELECT pg_relation_size('image_review_counts') / current_setting('block_size')::int`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != 1 {
		t.Errorf("the review counts take %d pages after the copy, want 1: their rows were rewritten as annotations were copied", pages)
	}
	checks, err := src.CompareTables(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.Same() {
			t.Errorf("%s differs after the copy: %+v", c.Table, c)
		}
	}
	// The triggers are on again: a new annotation is counted.
	if _, err := dst.CreateAnnotation(ctx, "bob", img.ID, ins[0]); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dst.db.QueryRowContext(ctx, `SELECT n FROM image_review_counts WHERE image_id = ? AND review_status = 'draft'`, img.ID).Scan(&n); err != nil || n != 3001 {
		t.Errorf("draft count after one more annotation = %d (%v), want 3001", n, err)
	}
}

// TestRowSumIsTheRowsWhateverTheirOrder: the table hash adds the rows' hashes: the same
// rows in another order give the same sum, a row changed or counted twice another.
func TestRowSumIsTheRowsWhateverTheirOrder(t *testing.T) {
	sumOf := func(rows ...string) rowSum {
		var s rowSum
		for _, r := range rows {
			s.add(sha256.Sum256([]byte(r)))
		}
		return s
	}
	if sumOf("a", "b", "c") != sumOf("c", "a", "b") {
		t.Error("the same rows in another order sum differently")
	}
	if sumOf("a", "b", "c") == sumOf("a", "b", "d") {
		t.Error("a changed row sums the same")
	}
	if sumOf("a", "b") == sumOf("a", "b", "b") {
		t.Error("a row twice sums as once")
	}
	var carried rowSum
	carried.add([32]byte{24: 0xff, 25: 0xff, 26: 0xff, 27: 0xff, 28: 0xff, 29: 0xff, 30: 0xff, 31: 0xff})
	carried.add([32]byte{31: 0x01})
	if carried != (rowSum{0, 0, 1, 0}) {
		t.Errorf("2⁶⁴-1 + 1 = %x, want the carry into the next word", carried)
	}
}
