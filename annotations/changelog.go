package annotations

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// The change log: what AnnotationChangesSince answers from memory. Every change of an
// annotation writes a revision holding the annotation as it is after the change (nil for
// a deletion) in the change's transaction, and revisions are never deleted, so the
// annotations changed on an image after position S, and what each now is, are the
// latest revisions after S of each of them. The log reads the revisions committed since
// it last looked (whoever wrote them: this server, the CLI, an import) before it answers,
// keeps the newest changeLogSize of them, and answers any position since its oldest;
// an older position (or one from before this process started) is answered from SQL.
//
// The annotations answered are the revisions' "after", with their label as the
// taxonomy has it now (a label's name or colour changes without a revision), in the
// order and with the deletions the SQL answer gives.

// changeLogSize bounds the revisions the log holds: how far back it answers.
const changeLogSize = 16384

// errUnreadRevision is a revision whose annotation the log cannot read back: the log
// stops there, and the changes since are answered from SQL.
var errUnreadRevision = errors.New("the annotation of a revision cannot be read")

// logEntry is one revision: its position, and the annotation after it (nil: deleted).
type logEntry struct {
	seq     int64
	imageID string
	id      string
	after   *Annotation
}

type changeLog struct {
	mu sync.Mutex
	// ready: from and last were read; from: every revision after it is in entries (in
	// position order); last: the newest revision read.
	ready      bool
	from, last int64
	entries    []logEntry
	// seqs holds the position of images whose position is known: their newest revision.
	seqs map[string]int64
	// latest is collect's, kept from one call to the next (under mu): a map made for
	// each answer of changes was a tenth of what the server allocated under bench/load.
	latest map[string]int
	// started counts the reads of new revisions begun; done is the number of the last
	// one finished. A request waits for one begun after it came (see catchUp).
	started atomic.Uint64
	done    uint64
}

// catchUp reads the revisions committed since the log last looked, so that the log
// holds every revision committed before catchUp was called. Requests arriving together
// share a read: one that finds, once it holds the lock, that a read begun after it came
// has finished, needs no other. It returns with l.mu held.
func (l *changeLog) catchUp(ctx context.Context, db *sql.DB) error {
	came := l.started.Load()
	l.mu.Lock()
	if l.ready && l.done > came {
		return nil
	}
	n := l.started.Add(1)
	if !l.ready {
		if err := l.restart(ctx, db); err != nil {
			l.mu.Unlock()
			return err
		}
		l.ready = true
	}
	if err := l.read(ctx, db); err != nil {
		l.mu.Unlock()
		return err
	}
	l.done = n
	return nil
}

// restart empties the log: it answers from the newest revision committed on.
func (l *changeLog) restart(ctx context.Context, db *sql.DB) error {
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM revisions`).Scan(&l.last); err != nil {
		return err
	}
	l.from, l.entries, l.seqs = l.last, nil, map[string]int64{}
	return nil
}

// read appends the revisions after l.last. More than the log holds at once (a large
// import) empties it: it then answers from the newest of them on.
func (l *changeLog) read(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT id, image_id, annotation_id, after FROM revisions WHERE id > ? ORDER BY id LIMIT ?`,
		l.last, changeLogSize+1)
	if err != nil {
		return err
	}
	defer rows.Close()
	var fresh []logEntry
	for rows.Next() {
		var e logEntry
		var after sql.NullString
		if err := rows.Scan(&e.seq, &e.imageID, &e.id, &after); err != nil {
			return err
		}
		if after.Valid {
			e.after = new(Annotation)
			if err := e.after.UnmarshalJSON([]byte(after.String)); err != nil {
				return fmt.Errorf("revision %d: %w: %w", e.seq, errUnreadRevision, err)
			}
		}
		fresh = append(fresh, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(fresh) > changeLogSize {
		// The positions of images seen before are no longer known to be the newest.
		return l.restart(ctx, db)
	}
	for _, e := range fresh {
		l.seqs[e.imageID] = e.seq
		l.last = e.seq
	}
	l.entries = append(l.entries, fresh...)
	if over := len(l.entries) - changeLogSize; over > 0 {
		// Dropped from the front by slicing, not by moving the rest down: once the log was
		// full, each read (a few revisions) moved all changeLogSize entries, 2 % of the
		// server's CPU under bench/load. append copies the live ones when it outgrows the
		// array, about once every quarter of the log's size.
		l.from = l.entries[over-1].seq
		clear(l.entries[:over]) // let the annotations dropped go
		l.entries = l.entries[over:]
	}
	return nil
}

// SharedChanges is AnnotationChanges with the changed annotations as the store holds
// them (the change log's, shared by every answer and never changed: read them, never
// write to them), each with its label as at its revision: Label gives the one it has now.
// Copying them out for each answer was most of what the changes answers allocated.
type SharedChanges struct {
	Seq     int64
	Changed []*Annotation // in list order
	Deleted []string      // sorted
	labels  map[string]Label
	stamp   int64 // the taxonomy's stamp labels are of; 0 without labels
}

// LabelStamp is the stamp of the taxonomy that Label looks labels up in, which moves on
// at every change of a label: two answers of one stamp give an annotation version the
// same label. ok is false when c carries its annotations' labels as they were read
// (Label then gives those), and only comparing the labels tells.
func (c SharedChanges) LabelStamp() (stamp int64, ok bool) {
	return c.stamp, c.labels != nil
}

// Label is the label a of c.Changed has now (a label's name or colour changes without a
// revision of the annotations it is on).
func (c SharedChanges) Label(a *Annotation) Label {
	if c.labels == nil {
		return a.Label
	}
	return c.labels[a.Label.ID]
}

// copied is c with each changed annotation copied out, with its label now.
func (c SharedChanges) copied() AnnotationChanges {
	out := AnnotationChanges{Seq: c.Seq, Changed: make([]Annotation, len(c.Changed)), Deleted: c.Deleted}
	for i, a := range c.Changed {
		out.Changed[i] = *a
		out.Changed[i].Label = c.Label(a)
	}
	return out
}

// sharing is out as SharedChanges, its annotations already with their label now.
func sharing(out AnnotationChanges) SharedChanges {
	sh := SharedChanges{Seq: out.Seq, Changed: make([]*Annotation, len(out.Changed)), Deleted: out.Deleted}
	for i := range out.Changed {
		sh.Changed[i] = &out.Changed[i]
	}
	return sh
}

// changesSince answers SharedChangesSince from the log; ok is false when the log does
// not reach back to since. labels is the taxonomy the annotations' labels are looked up
// in, read once the log has let go of its lock (the annotations it holds are never
// changed).
func (l *changeLog) changesSince(ctx context.Context, db *sql.DB, imageID string, since int64, labels func() (map[string]Label, int64, error)) (SharedChanges, bool, error) {
	out, changed, ok, err := l.collect(ctx, db, imageID, since)
	if !ok || err != nil {
		return SharedChanges{}, ok, err
	}
	sh := SharedChanges{Seq: out.Seq, Changed: changed, Deleted: out.Deleted}
	if len(changed) > 0 {
		if sh.labels, sh.stamp, err = labels(); err != nil {
			return SharedChanges{}, true, err
		}
	}
	return sh, true, nil
}

// collect is changesSince under the log's lock: the answer but for its changed
// annotations, which it gives as the log holds them, in the answer's order.
func (l *changeLog) collect(ctx context.Context, db *sql.DB, imageID string, since int64) (AnnotationChanges, []*Annotation, bool, error) {
	if err := l.catchUp(ctx, db); errors.Is(err, errUnreadRevision) {
		return AnnotationChanges{}, nil, false, nil // SQL reads the annotation from its row
	} else if err != nil {
		return AnnotationChanges{}, nil, false, err
	}
	defer l.mu.Unlock()
	if since < l.from {
		return AnnotationChanges{}, nil, false, nil
	}
	seq, known := l.seqs[imageID]
	if !known {
		// Its newest revision is not after l.from (it would be in the log): read once.
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM revisions WHERE image_id = ? AND id <= ?`,
			imageID, l.last).Scan(&seq); err != nil {
			return AnnotationChanges{}, nil, false, err
		}
		l.seqs[imageID] = seq
	}
	if since > seq {
		return AnnotationChanges{}, nil, true, &ChangesGoneError{Since: since, Seq: seq}
	}
	out := AnnotationChanges{Seq: seq, Changed: []Annotation{}, Deleted: []string{}}
	start, _ := slices.BinarySearchFunc(l.entries, since+1, func(e logEntry, s int64) int { return cmp.Compare(e.seq, s) })
	// Each annotation's latest revision (by its place in the log) and, once sorted, the
	// annotations to answer: sorting pointers, not annotations, which are large.
	if l.latest == nil {
		l.latest = map[string]int{}
	}
	latest := l.latest
	defer clear(latest)
	for i := start; i < len(l.entries); i++ {
		if l.entries[i].imageID == imageID {
			latest[l.entries[i].id] = i
		}
	}
	if len(latest) > MaxChanges {
		return AnnotationChanges{}, nil, true, &ChangesGoneError{Since: since, Seq: seq, Changed: MaxChanges + 1}
	}
	changed := make([]*Annotation, 0, len(latest))
	for id, i := range latest {
		if a := l.entries[i].after; a != nil {
			changed = append(changed, a)
		} else {
			out.Deleted = append(out.Deleted, id)
		}
	}
	slices.Sort(out.Deleted)
	slices.SortFunc(changed, func(a, b *Annotation) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, changed, true, nil
}
