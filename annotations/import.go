package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Imports: the features of a file another tool (or satmark) wrote become annotations of
// one image, every one checked exactly as a drawing is, all or nothing.

// ImportFeature is one feature of an imported file as its reader made it.
type ImportFeature struct {
	// ID is the feature's id in the file, "" when it has none. Two features of one file
	// with the same id are a broken file: the second is refused.
	ID string
	// Place says where the feature is in the file when it has no id ("line 12").
	Place string
	// Input is the annotation the feature would be. Its Label is the file's label
	// reference (a path such as "vessel/landing ship", or a name), looked up in the
	// taxonomy after the import's label map.
	Input AnnotationInput
	// Properties, when not nil, are the feature's properties as the reader decoded them
	// (each value JSON), taken in place of Input.Properties: they are not encoded to be
	// read again.
	Properties map[string]json.RawMessage
	// Refusal says why the reader could make no annotation of the feature at all (a
	// geometry satmark has no shape for, a position the image's transform cannot
	// reach); the import records it and goes on checking the others.
	Refusal string
}

// ImportOptions say how to import.
type ImportOptions struct {
	// DryRun checks everything, writes nothing and returns the plan.
	DryRun bool
	// FileName and Format are what the audit entry and the report name.
	FileName, Format string
	// LabelMap maps a label reference of the file (as MissingLabels names it) to a
	// label of the taxonomy (id, path or name).
	LabelMap map[string]string
	// CreateLabels adds every label the file names that the taxonomy lacks and LabelMap
	// does not map, as a path from the top of the taxonomy ("vessel/submarine" under
	// "vessel"), audited with the import.
	CreateLabels bool
	// MayCreateLabels says the importer may add labels to the taxonomy (an
	// administrator); CreateLabels without it is ErrForbidden.
	MayCreateLabels bool
	// Progress, when set, is called with the number of features read so far, every
	// thousand features and at the end.
	Progress func(features int)
	// Created, when set, hears of each annotation as the transaction creates it; they
	// are kept only when ImportAnnotations returns no error from a real run.
	Created func(Annotation)
}

// MissingLabel is a label a file names that the taxonomy does not have, with the number
// of features that name it.
type MissingLabel struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ImportRefusal is a feature an import refuses, and why.
type ImportRefusal struct {
	Index  int    `json:"index"` // from 0, in the file's order
	ID     string `json:"id"`
	Place  string `json:"place,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ImportReport is what an import did, or would do in a dry run.
type ImportReport struct {
	Format   string `json:"format"`
	File     string `json:"file,omitempty"`
	DryRun   bool   `json:"dry_run"`
	Features int    `json:"features"` // read from the file
	Create   int    `json:"create"`   // that pass every check: what a real run creates
	Created  int    `json:"created"`  // created: Create after a real run, else 0
	// MissingLabels are the file's labels the taxonomy lacks (not mapped, not created),
	// most used first; features that name them are not counted in Create.
	MissingLabels []MissingLabel `json:"missing_labels"`
	// NewLabels are the labels CreateLabels adds (or would add), by path.
	NewLabels []string        `json:"new_labels"`
	Refused   []ImportRefusal `json:"refused"`
}

// Clean reports whether every feature passes: no refusals and no missing labels.
func (r ImportReport) Clean() bool { return len(r.Refused) == 0 && len(r.MissingLabels) == 0 }

// ImportRefusedError is a real import that wrote nothing because some features were
// refused or name missing labels; Report lists them all.
type ImportRefusedError struct {
	Report ImportReport
}

func (e *ImportRefusedError) Error() string {
	var parts []string
	if n := len(e.Report.Refused); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d features refused", n, e.Report.Features))
	}
	if n := len(e.Report.MissingLabels); n > 0 {
		names := make([]string, 0, 3)
		for i, m := range e.Report.MissingLabels {
			if i == 3 {
				names = append(names, "…")
				break
			}
			names = append(names, fmt.Sprintf("%q", m.Name))
		}
		parts = append(parts, fmt.Sprintf("%d labels not in the taxonomy (%s): map them to labels or create them", n, strings.Join(names, ", ")))
	}
	return strings.Join(parts, "; ") + "; nothing was imported"
}

// errLabelMissing marks a feature whose label the taxonomy lacks.
var errLabelMissing = errors.New("label missing")

// ImportAnnotations makes annotations of image imageID from the features features emits
// (a reader walking a file), in one transaction. Every feature is checked and written
// exactly as CreateAnnotation checks and writes one, by the halves createAnnotationTx is
// made of (newAnnotation's checks as the file is read, in the reader's goroutine; the
// label lookup and insertAnnotationTx's writes in the transaction), so that a
// refused one is recorded with its reason and the rest are still checked; labels the
// taxonomy lacks are counted by name, apart from the refusals. The checks come before
// any write, so a refused feature leaves nothing; features share a savepoint in batches
// (importBatchSize), and a batch in which the database refuses a write is rolled back to
// it and made again feature by feature, each in a savepoint of its own, the refused one
// recorded with the database's reason.
//
// A dry run always rolls back and returns the report; it writes no revisions unless a
// trigger on them might refuse one. A real run is all or nothing: when
// any feature is refused or names a missing label, nothing is written and the error is an
// *ImportRefusedError holding the full report; otherwise it commits one revision per
// annotation under by's name and one audit entry for the import (file, format, count).
//
// Errors before any feature is read: an unknown image is ErrNotFound; CreateLabels
// without MayCreateLabels is ErrForbidden; a LabelMap target that is no label is a
// *ValidationError on field "map". An error from features (a file that cannot be read
// at all) is returned as it is.
func (s *Store) ImportAnnotations(ctx context.Context, by Actor, imageID string, features func(emit func(ImportFeature) error) error, opts ImportOptions) (ImportReport, error) {
	report := ImportReport{Format: opts.Format, File: opts.FileName, DryRun: opts.DryRun,
		MissingLabels: []MissingLabel{}, NewLabels: []string{}, Refused: []ImportRefusal{}}
	if opts.CreateLabels && !opts.MayCreateLabels {
		return report, fmt.Errorf("only an administrator may add labels to the taxonomy; map the file's labels to existing ones instead: %w", ErrForbidden)
	}
	// A connection of its own, whose page cache holds the indexes a large import
	// writes into at random places (annotation ids are UUIDs) instead of spilling them.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return report, err
	}
	defer conn.Close()
	if !s.d.postgres {
		if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY`); err != nil {
			return report, err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT`)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return report, err
	}
	defer tx.Rollback()
	if err := s.revisionTurn(ctx, tx); err != nil {
		return report, err
	}
	img, err := s.imageWhere(ctx, tx, "i.id = ?", imageID)
	if err != nil {
		return report, err
	}
	labels := &importLabels{ctx: ctx, s: s, tx: tx, by: by, opts: opts, resolved: map[string]labelAnswer{}, missing: map[string]int{}}
	if labels.all, err = s.labelsTx(ctx, tx); err != nil {
		return report, err
	}
	if err := labels.checkMap(); err != nil {
		return report, err
	}
	// A dry run writes no history: nothing in the revisions table's schema can refuse a
	// new annotation's first revision (a fresh id, version 1, action "create"), so it
	// would only cost time, unless a trigger there can refuse one: then it is written,
	// so that the dry run still reports every feature the real run refuses.
	history := !opts.DryRun
	if !history {
		if history, err = s.hasTriggers(ctx, tx, "revisions"); err != nil {
			return report, err
		}
	}
	counts, err := s.setCountsAside(ctx, tx)
	if err != nil {
		return report, err
	}
	seen := map[string]int{}
	refuse := func(f ImportFeature, index int, field, reason string) {
		report.Refused = append(report.Refused, ImportRefusal{Index: index, ID: f.ID, Place: f.Place, Field: field, Reason: reason})
	}
	var told importNotices
	b := importBatch{s: s, ctx: ctx, tx: tx, created: func(a Annotation) {
		counts.add(a)
		told.add(a)
		if opts.Created != nil {
			opts.Created(a)
		}
	}}
	labels.beforeCreate = b.release // a label made for the file outlives any batch
	// createAnnotationTx in its two halves: newAnnotation's checks of shape, geometry
	// and properties as the file is read (check, in the reader's goroutine), then here
	// the label, as createAnnotationTx finds it, and insertAnnotationTx's writes.
	check := func(f ImportFeature) checkedFeature {
		c := checkedFeature{f: f}
		if f.Refusal == "" {
			c.a, c.err = s.newAnnotationWith(by.Name, img.ID, img.Width, img.Height, Label{}, f.Input, f.Properties)
		}
		return c
	}
	create := func(c checkedFeature) (Annotation, error) {
		if c.f.Input.Label == nil {
			return Annotation{}, invalid("label", "is required")
		}
		label, err := labels.resolve(*c.f.Input.Label)
		if err != nil {
			return Annotation{}, err
		}
		if c.err != nil {
			return Annotation{}, c.err
		}
		a := c.a
		a.Label = label
		if err := s.insertAnnotationRowTx(ctx, tx, a); err != nil || !history {
			return a, err
		}
		return a, s.writeRevisionTold(ctx, tx, "create", a.CreatedBy, nil, &a, false)
	}
	err = readAhead(features, check, func(c checkedFeature) error {
		f := c.f
		index := report.Features
		report.Features++
		if report.Features%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if opts.Progress != nil {
				opts.Progress(report.Features)
			}
		}
		if f.ID != "" {
			if first, dup := seen[f.ID]; dup {
				refuse(f, index, "id", fmt.Sprintf("the id %q is used again: feature %d has it already", f.ID, first))
				return nil
			}
			seen[f.ID] = index
		}
		if f.Refusal != "" {
			refuse(f, index, "", f.Refusal)
			return nil
		}
		if f.Input.Label != nil {
			if err := labels.prepare(*f.Input.Label); err != nil {
				return err
			}
		}
		if err := b.begin(); err != nil {
			return err
		}
		a, err := create(c)
		var ve *ValidationError
		switch {
		case err == nil:
			report.Create++
			return b.add(c, index, a)
		case errors.Is(err, errLabelMissing):
			// Counted under its name; whatever else is wrong with it is a refusal too.
			if errors.As(c.err, &ve) {
				refuse(f, index, ve.Field, ve.Message)
			}
		case errors.As(err, &ve):
			refuse(f, index, ve.Field, ve.Message)
		case isConstraintViolation(err):
			// The database refused what the checks passed, perhaps after a first row:
			// the batch goes back to its savepoint and is made again feature by feature.
			refuse(f, index, "", "it cannot be stored: "+err.Error())
			lost, err := b.replay(create)
			if err != nil {
				return err
			}
			for _, l := range lost {
				report.Create--
				refuse(l.c.f, l.index, "", "it cannot be stored: "+l.err.Error())
			}
			sort.SliceStable(report.Refused, func(i, j int) bool { return report.Refused[i].Index < report.Refused[j].Index })
		default:
			return err
		}
		return nil
	})
	if err == nil {
		err = b.release()
	}
	if opts.Progress != nil {
		opts.Progress(report.Features)
	}
	if err != nil {
		return report, err
	}
	report.MissingLabels = labels.missingList()
	if labels.created != nil {
		report.NewLabels = labels.created
	}
	if opts.DryRun {
		return report, nil
	}
	if !report.Clean() {
		return report, &ImportRefusedError{Report: report}
	}
	if err := counts.putBack(ctx, tx, img.ID); err != nil {
		return report, err
	}
	detail := fmt.Sprintf("%d annotations from %q (%s) onto image %s", report.Create, opts.FileName, opts.Format, img.ID)
	if len(labels.created) > 0 {
		detail += fmt.Sprintf("; new labels %s", strings.Join(labels.created, ", "))
	}
	if err := s.audit(ctx, tx, by, "annotation.import", "image", img.ID, detail); err != nil {
		return report, err
	}
	if err := told.tell(ctx, s, tx, img.ID); err != nil {
		return report, err
	}
	if err := tx.Commit(); err != nil {
		return report, err
	}
	report.Created = report.Create
	return report, nil
}

// countTrigger is the trigger of migration 0015 that counts an image's annotations by
// review status as each is inserted.
const countTrigger = "annotations_count_insert"

// importCounts counts an import's annotations by review status while countTrigger is set
// aside for its transaction: the trigger's upsert, run once per row, was a third of the
// time of each annotation's insert. Nothing outside the transaction sees it missing.
type importCounts struct {
	trigger string         // countTrigger's SQL; "" when there was none to set aside
	added   map[string]int // the import's annotations kept so far, by review status
}

// setCountsAside drops countTrigger in tx, keeping its SQL for putBack. On PostgreSQL
// the trigger stays: dropping it would lock the table against every other writer until
// the import commits.
func (s *Store) setCountsAside(ctx context.Context, tx *sql.Tx) (*importCounts, error) {
	c := &importCounts{added: map[string]int{}}
	if s.d.postgres {
		return c, nil
	}
	err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`, countTrigger).Scan(&c.trigger)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `DROP TRIGGER `+countTrigger)
	return c, err
}

// add counts a, an annotation the import keeps.
func (c *importCounts) add(a Annotation) {
	if c.trigger != "" {
		c.added[a.ReviewStatus]++
	}
}

// putBack adds the import's annotations to the image's counts, as the trigger would
// have one by one, and makes the trigger again as it was.
func (c *importCounts) putBack(ctx context.Context, tx *sql.Tx, imageID string) error {
	if c.trigger == "" {
		return nil
	}
	for status, n := range c.added {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_review_counts (image_id, review_status, n) VALUES (?, ?, ?)
			ON CONFLICT (image_id, review_status) DO UPDATE SET n = n + excluded.n`, imageID, status, n); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, c.trigger)
	return err
}

// hasTriggers reports whether table has triggers.
func (s *Store) hasTriggers(ctx context.Context, q querier, table string) (bool, error) {
	query := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?`
	if s.d.postgres {
		query = `SELECT COUNT(*) FROM information_schema.triggers WHERE event_object_schema = current_schema() AND event_object_table = ?`
	}
	var n int
	err := q.QueryRowContext(ctx, query, table).Scan(&n)
	return n > 0, err
}

// importBatchSize is how many features share a savepoint. A savepoint of its own for
// each feature would double the database's work (SQLite copies every page a savepoint
// first changes); the checks come before any write, so a refused feature writes
// nothing, and only a write the database itself refuses needs its batch undone.
const importBatchSize = 256

// importBatch is the features created since the last savepoint.
type importBatch struct {
	s       *Store
	ctx     context.Context
	tx      *sql.Tx
	created func(Annotation) // told of each when its batch is released
	open    bool
	items   []batchItem
}

type batchItem struct {
	c     checkedFeature
	index int
	a     Annotation
	err   error
}

// checkedFeature is a feature with what newAnnotation made of it.
type checkedFeature struct {
	f   ImportFeature
	a   Annotation
	err error
}

func (b *importBatch) begin() error {
	if b.open {
		return nil
	}
	if _, err := b.tx.ExecContext(b.ctx, `SAVEPOINT batch`); err != nil {
		return err
	}
	b.open = true
	return nil
}

func (b *importBatch) add(c checkedFeature, index int, a Annotation) error {
	b.items = append(b.items, batchItem{c: c, index: index, a: a})
	if len(b.items) >= importBatchSize {
		return b.release()
	}
	return nil
}

// release keeps the batch, and tells of its annotations.
func (b *importBatch) release() error {
	if !b.open {
		return nil
	}
	if _, err := b.tx.ExecContext(b.ctx, `RELEASE batch`); err != nil {
		return err
	}
	b.open = false
	if b.created != nil {
		for _, it := range b.items {
			b.created(it.a)
		}
	}
	b.items = b.items[:0]
	return nil
}

// replay undoes the batch and makes its features again, each in a savepoint of its own;
// it returns those the database refuses this time, and releases the batch.
func (b *importBatch) replay(create func(checkedFeature) (Annotation, error)) ([]batchItem, error) {
	if _, err := b.tx.ExecContext(b.ctx, `ROLLBACK TO batch`); err != nil {
		return nil, err
	}
	var lost []batchItem
	kept := b.items[:0]
	for _, it := range b.items {
		if _, err := b.tx.ExecContext(b.ctx, `SAVEPOINT feature`); err != nil {
			return nil, err
		}
		a, err := create(it.c)
		if err != nil {
			if !isConstraintViolation(err) {
				return nil, err
			}
			if _, rerr := b.tx.ExecContext(b.ctx, `ROLLBACK TO feature`); rerr != nil {
				return nil, rerr
			}
			it.err = err
			lost = append(lost, it)
		} else {
			it.a = a
			kept = append(kept, it)
		}
		if _, err := b.tx.ExecContext(b.ctx, `RELEASE feature`); err != nil {
			return nil, err
		}
	}
	b.items = kept
	return lost, b.release()
}

// importLabels resolves an import's label references: through the label map, then the
// taxonomy, remembering each answer; labels it lacks are created (CreateLabels) or
// counted as missing.
type importLabels struct {
	// beforeCreate runs before a label is added: a label outlives the batch of features
	// that first names it.
	beforeCreate func() error
	ctx          context.Context
	s            *Store
	tx           *sql.Tx
	by           Actor
	opts         ImportOptions
	all          []Label
	resolved     map[string]labelAnswer
	missing      map[string]int
	created      []string
}

type labelAnswer struct {
	label Label
	err   error
}

// target is what the label map says a reference of the file is, if anything: the key as
// given, or the same but for case and a leading "/".
func (l *importLabels) target(ref string) (string, bool) {
	if to, ok := l.opts.LabelMap[ref]; ok {
		return to, true
	}
	norm := func(s string) string { return strings.TrimLeft(strings.TrimSpace(s), "/") }
	for from, to := range l.opts.LabelMap {
		if strings.EqualFold(norm(from), norm(ref)) {
			return to, true
		}
	}
	return "", false
}

// checkMap refuses a map whose targets are not labels.
func (l *importLabels) checkMap() error {
	froms := make([]string, 0, len(l.opts.LabelMap))
	for from := range l.opts.LabelMap {
		froms = append(froms, from)
	}
	sort.Strings(froms)
	for _, from := range froms {
		if _, err := resolveLabelIn(l.all, l.opts.LabelMap[from]); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return invalid("map", "%q is mapped to %q: %s", from, l.opts.LabelMap[from], ve.Message)
			}
			return err
		}
	}
	return nil
}

// prepare looks ref up (creating its labels, with CreateLabels) before the feature's
// savepoint, so that a label made for one feature stays for the next even when that
// feature is refused. An error is the database's.
func (l *importLabels) prepare(ref string) error {
	key := strings.TrimSpace(ref)
	if _, ok := l.resolved[key]; ok {
		return nil
	}
	label, err := l.find(key)
	var ve *ValidationError
	if err != nil && !errors.Is(err, errLabelMissing) && !errors.As(err, &ve) && !errors.Is(err, ErrConflict) {
		return err
	}
	l.resolved[key] = labelAnswer{label, err}
	return nil
}

// resolve answers what prepare found, counting each feature that names a missing label.
func (l *importLabels) resolve(ref string) (Label, error) {
	key := strings.TrimSpace(ref)
	a, ok := l.resolved[key]
	if !ok {
		return Label{}, fmt.Errorf("label %q was not prepared", key)
	}
	if errors.Is(a.err, errLabelMissing) {
		// "/vessel" (a path anchored at the top) is the label "vessel" to the reader.
		l.missing[strings.TrimLeft(key, "/")]++
	}
	return a.label, a.err
}

func (l *importLabels) find(key string) (Label, error) {
	if to, ok := l.target(key); ok {
		return resolveLabelIn(l.all, to)
	}
	label, err := lookupLabel(l.all, key)
	if !errors.Is(err, errUnknownLabel) {
		return label, err
	}
	if !l.opts.CreateLabels {
		return Label{}, errLabelMissing
	}
	if l.beforeCreate != nil {
		if err := l.beforeCreate(); err != nil {
			return Label{}, err
		}
	}
	return l.createPath(key)
}

// createPath adds the levels of path the taxonomy lacks, from the top, each audited.
func (l *importLabels) createPath(path string) (Label, error) {
	parts := pathSeparators.Split(strings.TrimLeft(path, "/›> "), -1)
	parent := ""
	var found Label
	for i, name := range parts {
		name = strings.TrimSpace(name)
		ok := false
		for _, cand := range l.all {
			if cand.ParentID == parent && strings.EqualFold(cand.Name, name) {
				found, ok = cand, true
				break
			}
		}
		if !ok {
			color := DefaultColor(strings.Join(parts[:i+1], "/"))
			n, p := name, parent
			in := LabelInput{Name: &n, ParentID: &p, Color: &color}
			if err := in.validate(); err != nil {
				var ve *ValidationError
				if errors.As(err, &ve) {
					return Label{}, invalid("label", "the file's label %q cannot be created: its name %s", path, ve.Message)
				}
				return Label{}, err
			}
			id, err := l.s.insertLabelTx(l.ctx, l.tx, l.all, in)
			if err != nil {
				return Label{}, err
			}
			if l.all, err = l.s.labelsTx(l.ctx, l.tx); err != nil {
				return Label{}, err
			}
			for _, cand := range l.all {
				if cand.ID == id {
					found = cand
				}
			}
			if err := l.s.audit(l.ctx, l.tx, l.by, "label.create", "label", id, strings.Join(found.Path, "/")+" (import)"); err != nil {
				return Label{}, err
			}
			l.created = append(l.created, strings.Join(found.Path, "/"))
		}
		parent = found.ID
	}
	return found, nil
}

func (l *importLabels) missingList() []MissingLabel {
	out := make([]MissingLabel, 0, len(l.missing))
	for name, n := range l.missing {
		out = append(out, MissingLabel{Name: name, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// errStopped tells a reader its features are no longer wanted.
var errStopped = errors.New("import stopped")

// readAhead runs features (a reader parsing a file) in a goroutine of its own, a few
// hundred features ahead of take (the database's work), with check applied to each
// there, so that both cores are busy. It returns take's first error, else the reader's;
// a panic in the reader is an error.
func readAhead[T any](features func(emit func(ImportFeature) error) error, check func(ImportFeature) T, take func(T) error) error {
	feed := make(chan T, 512)
	stop := make(chan struct{})
	read := make(chan error, 1)
	go func() {
		defer close(feed)
		defer func() {
			if p := recover(); p != nil {
				read <- fmt.Errorf("reading the file failed: %v", p)
			}
		}()
		read <- features(func(f ImportFeature) error {
			select {
			case feed <- check(f):
				return nil
			case <-stop:
				return errStopped
			}
		})
	}()
	for f := range feed {
		if err := take(f); err != nil {
			close(stop)
			for range feed {
			}
			<-read
			return err
		}
	}
	return <-read
}
