package annotations

import (
	"context"
	"encoding/json"
)

// Notices are how the processes on one PostgreSQL database learn of each other's
// changes (see processes.go for how they travel). The store sends a change's notice in
// the transaction that commits the change (tellTx): PostgreSQL delivers a notice sent in
// a transaction when, and only when, it commits (one sent in a savepoint that rolls back
// is dropped with it), so no process can commit a change and then die, or lose its
// connection, before the others are told. A notice names what changed, never carries
// it: the process that hears it reads the rest from the store.
//
// The changes told of: every annotation revision (created, updated, deleted), every
// comment and suggestion added or decided, and every change of what a process may keep
// in memory about an image (its provenance, georeference, display, trash, pyramid job).
// Account changes are told by the server after the commit; a process also notices them
// by the accounts' stamp within a second (server/identity.go).

// Notice is one change, as sent to the other processes.
type Notice struct {
	// Type is an event's type (annotation.created, …, see server.Event), or
	// NoticeImageChanged, NoticeImageReset or NoticeAccountsChanged.
	Type    string `json:"t"`
	ImageID string `json:"i,omitempty"`
	Actor   string `json:"u,omitempty"`
	// ID and Version name the annotation and its version after the change (for a
	// deletion, the version deleted).
	ID      string `json:"a,omitempty"`
	Version int    `json:"v,omitempty"`
	// Items names the comment (comment.created) or the suggestions (suggestion.created,
	// suggestion.updated) the change made.
	Items []string `json:"x,omitempty"`
}

const (
	// NoticeImageChanged: forget what is kept in memory about the image.
	NoticeImageChanged = "image.changed"
	// NoticeImageReset: the image's listeners must load its annotations again.
	NoticeImageReset = "image.reset"
	// NoticeAccountsChanged: forget the cached sessions and tokens.
	NoticeAccountsChanged = "accounts.changed"
)

// Text is n as sent: a notice too large for PostgreSQL (the suggestions of a find-similar
// run of hundreds) becomes one telling the image's listeners to reload.
func (n Notice) Text() (string, error) {
	text, err := json.Marshal(n)
	if err == nil && len(text) > MaxNotice {
		text, err = json.Marshal(Notice{Type: NoticeImageReset, ImageID: n.ImageID})
	}
	return string(text), err
}

// ParseNotice reads a notice's text.
func ParseNotice(text string) (Notice, error) {
	var n Notice
	err := json.Unmarshal([]byte(text), &n)
	return n, err
}

// notifySQL sends one notice: its text after the sender's origin.
const notifySQL = `SELECT pg_notify('` + noticeChannel + `', ?)`

// tellTx sends n to the other processes as part of q's transaction (see the top of the
// file). On SQLite (one process) it does nothing.
func (s *Store) tellTx(ctx context.Context, q querier, n Notice) error {
	if !s.d.postgres {
		return nil
	}
	text, err := n.Text()
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, notifySQL, s.origin+" "+text)
	return err
}

// imageChangedTx is tellTx of NoticeImageChanged for the image.
func (s *Store) imageChangedTx(ctx context.Context, q querier, imageID string) error {
	return s.tellTx(ctx, q, Notice{Type: NoticeImageChanged, ImageID: imageID})
}

// revisionNotice is the notice of an annotation revision: created (no before), deleted
// (no after) or updated.
func revisionNotice(actor string, before, after *Annotation) Notice {
	switch {
	case before == nil:
		return Notice{Type: "annotation.created", ImageID: after.ImageID, Actor: actor, ID: after.ID, Version: after.Version}
	case after == nil:
		return Notice{Type: "annotation.deleted", ImageID: before.ImageID, Actor: actor, ID: before.ID, Version: before.Version}
	}
	return Notice{Type: "annotation.updated", ImageID: after.ImageID, Actor: actor, ID: after.ID, Version: after.Version}
}

// ImportToldOneByOne is how many annotations an import may create and still tell the
// other processes (and its own listeners) of each; past it they are told once that the
// image's annotations must be loaded again (NoticeImageReset), as a listener's buffer
// would overflow with them anyway.
const ImportToldOneByOne = 256

// importNotices is what an import tells the other processes at its end, in its
// transaction: a notice for each annotation it created, up to ImportToldOneByOne, else
// one NoticeImageReset. Its revisions are written untold (writeRevisionTold), which
// spares the database a notice per row of a large import.
type importNotices struct {
	created []Notice
	many    int
}

func (t *importNotices) add(a Annotation) {
	if t.many++; t.many <= ImportToldOneByOne {
		t.created = append(t.created, revisionNotice(a.CreatedBy, nil, &a))
	}
}

func (t *importNotices) tell(ctx context.Context, s *Store, q querier, imageID string) error {
	if !s.d.postgres || t.many == 0 {
		return nil
	}
	if t.many > ImportToldOneByOne {
		return s.tellTx(ctx, q, Notice{Type: NoticeImageReset, ImageID: imageID})
	}
	for _, n := range t.created {
		if err := s.tellTx(ctx, q, n); err != nil {
			return err
		}
	}
	return nil
}
