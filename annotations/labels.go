package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Label is a node of the taxonomy, e.g. "landing ship" under "vessel".
type Label struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	ParentID string   `json:"parent_id,omitempty"`
	Path     []string `json:"path"`  // names from the root down to this label
	Color    string   `json:"color"` // #rrggbb
	Hotkey   string   `json:"hotkey,omitempty"`
}

// PathString joins the label's path for display: "vessel › landing ship".
func (l Label) PathString() string { return strings.Join(l.Path, " › ") }

// LabelInput creates or changes a label. In an update, nil fields are left as they are;
// an empty ParentID moves the label to the top level.
type LabelInput struct {
	Name     *string `json:"name"`
	ParentID *string `json:"parent_id"`
	Color    *string `json:"color"`
	Hotkey   *string `json:"hotkey"`
}

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// pathSeparators split a label reference such as "vessel/landing ship" or
// "vessel › landing ship" into names.
var pathSeparators = regexp.MustCompile(`\s*(?:/|›|>)\s*`)

// Labels returns the whole taxonomy, parents before children, siblings by name.
func (s *Store) Labels(ctx context.Context) ([]Label, error) {
	return s.labelsTx(ctx, s.db)
}

// labelCache holds the taxonomy as last read, its index by id, and the label_stamp it
// was read at.
type labelCache struct {
	mu     sync.Mutex
	stamp  int64
	labels []Label // nil until read
	index  map[string]Label
}

// labelsTx returns the taxonomy as q sees it: from memory while label_stamp (moved by
// every change of the labels table, in any process) is what it was when they were read.
func (s *Store) labelsTx(ctx context.Context, q querier) ([]Label, error) {
	labels, _, err := s.sharedLabels(ctx, q)
	return slices.Clone(labels), err
}

// labelIndexTx is labelsTx's labels by id. The map is shared: read it, never write to it.
func (s *Store) labelIndexTx(ctx context.Context, q querier) (map[string]Label, error) {
	_, index, err := s.sharedLabels(ctx, q)
	return index, err
}

// sharedLabels returns the taxonomy as q sees it and its index by id, both as the cache
// holds them: callers must not change either. Every write took a copy of the labels and
// built their index, a map of its own, once or twice a request.
func (s *Store) sharedLabels(ctx context.Context, q querier) ([]Label, map[string]Label, error) {
	labels, index, _, err := s.stampedLabels(ctx, q)
	return labels, index, err
}

// stampedLabels is sharedLabels with the taxonomy's stamp, which every change of a label
// moves on: under one stamp, a label id stands for one label.
func (s *Store) stampedLabels(ctx context.Context, q querier) ([]Label, map[string]Label, int64, error) {
	// The stamp first: labels read after it are at least as new as it says, so a change
	// in between only makes the next call read them again.
	var stamp int64
	if err := q.QueryRowContext(ctx, `SELECT n FROM label_stamp`).Scan(&stamp); err != nil {
		return nil, nil, 0, err
	}
	s.labels.mu.Lock()
	cached, index := s.labels.labels, s.labels.index
	if cached != nil && s.labels.stamp == stamp {
		s.labels.mu.Unlock()
		return cached, index, stamp, nil
	}
	s.labels.mu.Unlock()
	labels, err := readLabels(ctx, q)
	if err != nil {
		return nil, nil, 0, err
	}
	index = labelIndex(labels)
	s.labels.mu.Lock()
	s.labels.stamp, s.labels.labels, s.labels.index = stamp, labels, index
	s.labels.mu.Unlock()
	return labels, index, stamp, nil
}

// readLabels reads the whole taxonomy, parents before children, siblings by name.
func readLabels(ctx context.Context, q querier) ([]Label, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, COALESCE(parent_id, ''), color, hotkey FROM labels`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := map[string]*Label{}
	var all []*Label
	for rows.Next() {
		var l Label
		if err := rows.Scan(&l.ID, &l.Name, &l.ParentID, &l.Color, &l.Hotkey); err != nil {
			return nil, err
		}
		all = append(all, &l)
		byID[l.ID] = &l
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, l := range all {
		var path []string
		for p, depth := l, 0; p != nil && depth < 64; p, depth = byID[p.ParentID], depth+1 {
			path = append([]string{p.Name}, path...)
		}
		l.Path = path
	}
	sort.Slice(all, func(i, j int) bool {
		return strings.ToLower(strings.Join(all[i].Path, "\x00")) < strings.ToLower(strings.Join(all[j].Path, "\x00"))
	})
	labels := make([]Label, len(all))
	for i, l := range all {
		labels[i] = *l
	}
	return labels, nil
}

// Label returns one label, or ErrNotFound.
func (s *Store) Label(ctx context.Context, id string) (Label, error) {
	return s.labelTx(ctx, s.db, id)
}

func (s *Store) labelTx(ctx context.Context, q querier, id string) (Label, error) {
	labels, err := s.labelsTx(ctx, q)
	if err != nil {
		return Label{}, err
	}
	for _, l := range labels {
		if l.ID == id {
			return l, nil
		}
	}
	return Label{}, fmt.Errorf("label %q: %w", id, ErrNotFound)
}

// ResolveLabel finds a label by id, by path ("vessel/landing ship" or
// "vessel › landing ship"; a leading "/" anchors it at the top level) or by a name that
// only one label has, ignoring case. Anything else, including a name several labels
// share, is a *ValidationError on field "label" that says which paths would do.
func (s *Store) ResolveLabel(ctx context.Context, ref string) (Label, error) {
	return s.resolveLabelTx(ctx, s.db, ref)
}

func (s *Store) resolveLabelTx(ctx context.Context, q querier, ref string) (Label, error) {
	labels, err := s.labelsTx(ctx, q)
	if err != nil {
		return Label{}, err
	}
	return resolveLabelIn(labels, ref)
}

// errUnknownLabel is lookupLabel's answer for a reference no label has.
var errUnknownLabel = errors.New("unknown label")

// resolveLabelIn is ResolveLabel over a taxonomy already read.
func resolveLabelIn(labels []Label, ref string) (Label, error) {
	l, err := lookupLabel(labels, ref)
	if errors.Is(err, errUnknownLabel) {
		return Label{}, invalid("label", "unknown label %q", strings.TrimSpace(ref))
	}
	return l, err
}

// resolveLabelIndexed is resolveLabelIn with labels' index by id (labelIndex), which
// finds a reference by id, as most are, without reading the reference as a path.
func resolveLabelIndexed(labels []Label, index map[string]Label, ref string) (Label, error) {
	if l, ok := index[strings.TrimSpace(ref)]; ok {
		return l, nil
	}
	return resolveLabelIn(labels, ref)
}

// lookupLabel finds ref in labels as ResolveLabel does; a reference no label has is
// errUnknownLabel, other refusals (empty, ambiguous) a *ValidationError.
func lookupLabel(labels []Label, ref string) (Label, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Label{}, invalid("label", "is required")
	}
	// A leading separator anchors the path at the root: "/other" is the top-level label
	// "other" even when "vessel/other" exists too.
	anchored := pathSeparators.MatchString(ref[:1])
	parts := pathSeparators.Split(strings.TrimLeft(ref, "/›> "), -1)
	var byPath, byName []Label
	for _, l := range labels {
		if l.ID == ref {
			return l, nil
		}
		if equalFoldPath(l.Path, parts) {
			byPath = append(byPath, l)
		}
		if len(parts) == 1 && strings.EqualFold(l.Name, parts[0]) {
			byName = append(byName, l)
		}
	}
	switch {
	case len(byPath) == 1 && (anchored || len(parts) > 1 || len(byName) == 1):
		return byPath[0], nil
	case anchored || len(parts) > 1:
		return Label{}, errUnknownLabel
	case len(byName) == 1:
		return byName[0], nil
	case len(byName) == 0:
		return Label{}, errUnknownLabel
	}
	paths := make([]string, len(byName))
	for i, l := range byName {
		paths[i] = "/" + strings.Join(l.Path, "/")
	}
	return Label{}, invalid("label", "label name %q is ambiguous: give its path, one of %s", ref, strings.Join(paths, ", "))
}

func equalFoldPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func (in LabelInput) validate() error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		*in.Name = name
		switch {
		case name == "":
			return invalid("name", "is required")
		case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100:
			return invalid("name", "must be valid text of at most 100 characters")
		case pathSeparators.MatchString(name):
			return invalid("name", "cannot contain /, › or > (they separate levels of the taxonomy)")
		}
	}
	if in.Color != nil && !colorPattern.MatchString(*in.Color) {
		return invalid("color", "%q is not a colour of the form #rrggbb", *in.Color)
	}
	if in.Hotkey != nil && utf8.RuneCountInString(*in.Hotkey) > 1 {
		return invalid("hotkey", "must be a single character")
	}
	return nil
}

// CreateLabel adds a label to the taxonomy, audited as by's. A sibling with the same
// name (ignoring case) is ErrConflict.
func (s *Store) CreateLabel(ctx context.Context, by Actor, in LabelInput) (Label, error) {
	if in.Name == nil {
		return Label{}, invalid("name", "is required")
	}
	if in.Color == nil {
		c := DefaultColor(*in.Name)
		in.Color = &c
	}
	if err := in.validate(); err != nil {
		return Label{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Label{}, err
	}
	defer tx.Rollback()
	labels, err := s.labelsTx(ctx, tx)
	if err != nil {
		return Label{}, err
	}
	id, err := s.insertLabelTx(ctx, tx, labels, in)
	if err != nil {
		return Label{}, err
	}
	return s.commitLabel(ctx, tx, by, "label.create", id)
}

// insertLabelTx adds the label in describes (validated, with its colour) to the taxonomy
// labels in tx and returns its id; its audit entry is the caller's.
func (s *Store) insertLabelTx(ctx context.Context, tx *sql.Tx, labels []Label, in LabelInput) (string, error) {
	id := newID("lbl")
	if err := siblingNameFree(labels, id, str(in.ParentID), *in.Name); err != nil {
		return "", err
	}
	parent := sql.NullString{String: str(in.ParentID), Valid: str(in.ParentID) != ""}
	_, err := tx.ExecContext(ctx, `INSERT INTO labels (id, parent_id, name, color, hotkey, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, parent, *in.Name, strings.ToLower(*in.Color), str(in.Hotkey), formatTime(s.now()))
	if err != nil {
		return "", s.labelWriteError(err, in)
	}
	return id, nil
}

// commitLabel audits a created or changed label with its path and commits.
func (s *Store) commitLabel(ctx context.Context, tx *sql.Tx, by Actor, action, id string) (Label, error) {
	l, err := s.labelTx(ctx, tx, id)
	if err != nil {
		return Label{}, err
	}
	if err := s.audit(ctx, tx, by, action, "label", l.ID, strings.Join(l.Path, "/")); err != nil {
		return Label{}, err
	}
	return l, tx.Commit()
}

// siblingNameFree refuses a name that another label under the same parent already has,
// ignoring case beyond ASCII too (SQLite's NOCASE index folds only A–Z), because labels
// are found by name that way.
func siblingNameFree(labels []Label, id, parent, name string) error {
	for _, l := range labels {
		if l.ID != id && l.ParentID == parent && strings.EqualFold(l.Name, name) {
			return fmt.Errorf("a label named %q already exists at that level: %w", l.Name, ErrConflict)
		}
	}
	return nil
}

func (s *Store) labelWriteError(err error, in LabelInput) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("a label named %q already exists at that level: %w", str(in.Name), ErrConflict)
	}
	if isForeignKeyViolation(err) {
		return invalid("parent_id", "no label with id %q", str(in.ParentID))
	}
	return err
}

// UpdateLabel renames, recolours or moves a label, audited as by's. Moving a label under
// itself or one of its descendants is a *ValidationError.
func (s *Store) UpdateLabel(ctx context.Context, by Actor, id string, in LabelInput) (Label, error) {
	if err := in.validate(); err != nil {
		return Label{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Label{}, err
	}
	defer tx.Rollback()
	labels, err := s.labelsTx(ctx, tx)
	if err != nil {
		return Label{}, err
	}
	byID := map[string]Label{}
	for _, l := range labels {
		byID[l.ID] = l
	}
	cur, ok := byID[id]
	if !ok {
		return Label{}, fmt.Errorf("label %q: %w", id, ErrNotFound)
	}
	if in.Name != nil {
		cur.Name = *in.Name
	}
	if in.Color != nil {
		cur.Color = strings.ToLower(*in.Color)
	}
	if in.Hotkey != nil {
		cur.Hotkey = *in.Hotkey
	}
	if in.ParentID != nil {
		for p := *in.ParentID; p != ""; p = byID[p].ParentID {
			if p == id {
				return Label{}, invalid("parent_id", "a label cannot be moved under itself or its descendants")
			}
			if _, ok := byID[p]; !ok {
				return Label{}, invalid("parent_id", "no label with id %q", p)
			}
		}
		cur.ParentID = *in.ParentID
	}
	if err := siblingNameFree(labels, id, cur.ParentID, cur.Name); err != nil {
		return Label{}, err
	}
	parent := sql.NullString{String: cur.ParentID, Valid: cur.ParentID != ""}
	if _, err := tx.ExecContext(ctx, `UPDATE labels SET name = ?, parent_id = ?, color = ?, hotkey = ? WHERE id = ?`,
		cur.Name, parent, cur.Color, cur.Hotkey, id); err != nil {
		return Label{}, s.labelWriteError(err, in)
	}
	return s.commitLabel(ctx, tx, by, "label.update", id)
}

// DeleteLabel removes a label that no annotation uses and that has no children, audited
// as by's; otherwise it returns ErrConflict saying why.
func (s *Store) DeleteLabel(ctx context.Context, by Actor, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var exists, used, children int
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM labels WHERE id = ?),
		(SELECT COUNT(*) FROM annotations WHERE label_id = ?),
		(SELECT COUNT(*) FROM labels WHERE parent_id = ?)`, id, id, id).Scan(&exists, &used, &children); err != nil {
		return err
	}
	switch {
	case exists == 0:
		return fmt.Errorf("label %q: %w", id, ErrNotFound)
	case used > 0:
		return fmt.Errorf("%d annotations use this label; relabel them first: %w", used, ErrConflict)
	case children > 0:
		return fmt.Errorf("this label has %d sub-labels; move or delete them first: %w", children, ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM labels WHERE id = ?`, id); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "label.delete", "label", id, ""); err != nil {
		return err
	}
	return tx.Commit()
}

// EnsureLabelPath returns the label at path, creating any missing level with the given
// colour (or a default colour) on the way, audited as by's. It is how default taxonomies
// are seeded.
func (s *Store) EnsureLabelPath(ctx context.Context, by Actor, path []string, color string) (Label, error) {
	parent := ""
	var l Label
	for i, name := range path {
		labels, err := s.Labels(ctx)
		if err != nil {
			return Label{}, err
		}
		found := false
		for _, cand := range labels {
			if cand.ParentID == parent && strings.EqualFold(cand.Name, name) {
				l, found = cand, true
				break
			}
		}
		if !found {
			c := DefaultColor(strings.Join(path[:i+1], "/"))
			if i == len(path)-1 && color != "" {
				c = color
			}
			n, p := name, parent
			if l, err = s.CreateLabel(ctx, by, LabelInput{Name: &n, ParentID: &p, Color: &c}); err != nil {
				return Label{}, err
			}
		}
		parent = l.ID
	}
	return l, nil
}

// DefaultColor picks a stable, distinct-looking colour for a label name.
func DefaultColor(name string) string {
	palette := []string{"#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
		"#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3"}
	var h uint32 = 2166136261
	for _, c := range []byte(strings.ToLower(strings.TrimSpace(name))) {
		h = (h ^ uint32(c)) * 16777619
	}
	return palette[h%uint32(len(palette))]
}

// labelAndDescendants returns the ids of the given labels and everything below them.
func labelAndDescendants(labels []Label, ids []string) []string {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	changed := true
	for changed {
		changed = false
		for _, l := range labels {
			if !want[l.ID] && want[l.ParentID] {
				want[l.ID], changed = true, true
			}
		}
	}
	out := make([]string, 0, len(want))
	for id := range want {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
