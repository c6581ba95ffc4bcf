package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Reading an image's annotations at scale: the whole list written as it is read, in
// pages, and what changed since a position. Every answer carries the image's position
// in the Satmark-Seq header, taken before the read: a client that asks for the changes
// since the position of its first read gets whatever it missed since, perhaps twice.

const seqHeader = "Satmark-Seq"

// streamBatch is how many annotations the whole list reads at a time: the memory it
// holds, and the longest it keeps a read of the database open.
const streamBatch = 1000

// listAnnotations answers an image's annotations as a JSON array in list order (creation
// time, then id): all of them, or with ?limit=N (1 to 10000) a page of N, with a Link
// header to the next page while more remain (?after=, an opaque cursor).
func (s *Server) listAnnotations(c echo.Context) error {
	l, err := s.readList(c, "annotations")
	if err != nil {
		return err
	}
	return s.writeAnnotations(c, l.place, l.page, l.more)
}

// listRead is the first page of an image's annotations a list answer starts with, and how
// to read the rest (nil when the answer is that one page).
type listRead struct {
	place placed
	page  annotations.AnnotationPage
	more  func(after string) (annotations.AnnotationPage, error)
}

// readList reads the query of a list route (limit, after) and the first page, and sets
// the headers every list answer carries: Satmark-Seq, and Link to the next page of the
// same route (the image's path, then route) when paged and more remain.
func (s *Server) readList(c echo.Context, route string) (listRead, error) {
	ctx := c.Request().Context()
	q, err := s.readListQuery(c)
	if err != nil {
		return listRead{}, err
	}
	l := listRead{place: q.place}
	if !q.paged {
		l.more = func(after string) (annotations.AnnotationPage, error) {
			return s.store.AnnotationPage(ctx, q.imageID, after, streamBatch)
		}
	}
	if l.page, err = s.store.AnnotationPage(ctx, q.imageID, q.after, q.limit); err != nil {
		return listRead{}, err
	}
	q.setHeaders(c, route, l.page.Next)
	return l, nil
}

// listQuery is what a list route's query asks for, and the image's position and
// placement, read before its first page.
type listQuery struct {
	imageID string
	limit   int  // the first page's size: streamBatch when not paged
	paged   bool // ?limit: one page, with a Link to the next
	after   string
	seq     int64
	place   placed
}

// readListQuery reads the image and the query of a list route (limit, after), and the
// image's position and placement.
func (s *Server) readListQuery(c echo.Context) (listQuery, error) {
	ctx := c.Request().Context()
	imageID, err := s.imageIDParam(c)
	if err != nil {
		return listQuery{}, err
	}
	q := listQuery{imageID: imageID, limit: streamBatch, paged: c.QueryParams().Has("limit"), after: c.QueryParam("after")}
	if q.paged {
		if q.limit, err = strconv.Atoi(c.QueryParam("limit")); err != nil {
			return listQuery{}, badRequest("limit", "limit is a number of annotations, 1 to %d, not %q", annotations.MaxPage, c.QueryParam("limit"))
		}
	}
	if q.after != "" && !q.paged {
		return listQuery{}, badRequest("after", "after goes with limit: follow the Link header of the page before")
	}
	if q.seq, err = s.store.AnnotationSeq(ctx, imageID); err != nil {
		return listQuery{}, err
	}
	if q.place, err = s.placedOfID(ctx, imageID); err != nil {
		return listQuery{}, err
	}
	return q, nil
}

// setHeaders sets the headers of the list answer whose first page ends at the cursor
// next: Satmark-Seq, and Link to the next page of the same route when paged.
func (q listQuery) setHeaders(c echo.Context, route, next string) {
	h := c.Response().Header()
	h.Set(seqHeader, strconv.FormatInt(q.seq, 10))
	if q.paged && next != "" {
		h.Set("Link", fmt.Sprintf(`</api/v1/images/%s/%s?limit=%d&after=%s>; rel="next"`, q.imageID, route, q.limit, next))
	}
}

func (s *Server) writeAnnotations(c echo.Context, place placed, page annotations.AnnotationPage,
	more func(after string) (annotations.AnnotationPage, error)) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(w, 64<<10)
	out.WriteByte('[')
	var b []byte
	first := true
	for {
		for i := range page.Annotations {
			a := &page.Annotations[i]
			a.Ground = place.ground.measure(place.p, a)
			b = b[:0]
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			if b, err = a.AppendJSON(b); err != nil {
				s.abortAnswer(c, err)
			}
			if _, err := out.Write(b); err != nil {
				return err // the client went away
			}
		}
		if more == nil || page.Next == "" {
			break
		}
		var err error
		if page, err = more(page.Next); err != nil {
			s.abortAnswer(c, err)
		}
	}
	out.WriteString("]\n")
	return out.Flush()
}

// abortAnswer ends an answer already begun after err: logged (unless the client went
// away), and the connection cut, so that the client cannot take what it got for all.
func (s *Server) abortAnswer(c echo.Context, err error) {
	if !errors.Is(err, context.Canceled) {
		s.log.Error("answer cut short", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// annotationChanges answers what changed among an image's annotations since the
// position ?since= (a Satmark-Seq of an earlier read): {"seq", "changed": the
// annotations as the list gives them, "deleted": ids}. A position this image never had,
// or one after which too much changed, is 410: read the list in full again.
func (s *Server) annotationChanges(c echo.Context) error {
	ctx := c.Request().Context()
	imageID, err := s.imageIDParam(c)
	if err != nil {
		return err
	}
	raw := c.QueryParam("since")
	if raw == "" {
		return badRequest("since", "say since when: ?since= the Satmark-Seq header of your last read of the annotations")
	}
	since, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return badRequest("since", "since is a position, a whole number (the Satmark-Seq header of your last read), not %q", raw)
	}
	ch, err := s.store.SharedChangesSince(ctx, imageID, since)
	if err != nil {
		return err
	}
	place, err := s.placedOfID(ctx, imageID)
	if err != nil {
		return err
	}
	// Written by hand, the bytes encoding/json gave for {seq, changed, deleted}: c.JSON's
	// reflection and its second pass over each annotation's MarshalJSON were a third of
	// the server's CPU under the load test (bench/load), which asks for this as the page does.
	// The buffer is reused: a new one for each answer was half the bytes the server
	// allocated under that test, and most of its garbage collections.
	buf := changesBuffers.Get().(*[]byte)
	defer putChangesBuffer(buf)
	if need := 1024*len(ch.Changed) + 64; cap(*buf) < need {
		// Once rather than step by step, with room for the larger answers to come.
		*buf = make([]byte, 0, max(need, min(2*need, maxPooledChanges)))
	}
	b := append((*buf)[:0], `{"seq":`...)
	b = strconv.AppendInt(b, ch.Seq, 10)
	b = append(b, `,"changed":[`...)
	if b, err = place.encoded.appendChanged(b, place, ch); err != nil {
		return err
	}
	b = append(b, `],"deleted":`...)
	deleted, err := json.Marshal(ch.Deleted)
	if err != nil {
		return err
	}
	b = append(append(b, deleted...), "}\n"...)
	*buf = b
	c.Response().Header().Set(seqHeader, strconv.FormatInt(ch.Seq, 10))
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b) // written out before it returns
}

// changesBuffers holds the buffers answers of changes are written in.
var changesBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledChanges is the largest buffer kept for another answer: one of many changes
// (up to MaxChanges) is rare, and holding its megabytes for ever is not worth it. Under
// bench/load's 50 analysts an answer carries a few hundred annotations, ~0.5 MB.
const maxPooledChanges = 4 << 20

func putChangesBuffer(buf *[]byte) {
	if cap(*buf) <= maxPooledChanges {
		changesBuffers.Put(buf)
	}
}

// encodedMemo remembers, under one placement, the JSON of the annotations that answers of
// changes carried, by id and version (a version never changes), with the label it was
// written with (a label's name or colour changes without a new version): under the load
// test every analyst asks for the same recent changes, and writing them again for each
// was a fifth of the server's time. It forgets everything past maxEncodedMemo annotations.
type encodedMemo struct {
	mu sync.RWMutex
	m  map[string]*encoded // by pointer: the lookups of a few hundred ids an answer touch less memory
}

type encoded struct {
	version int
	label   annotations.Label
	stamp   int64 // the taxonomy's stamp label is of (SharedChanges.LabelStamp); 0 for none
	json    []byte
}

const maxEncodedMemo = 1 << 14

// appendChanged appends the JSON of ch's changed annotations (the store's, left as
// they are), comma-separated, each with its label now and its ground measures under
// place, to b. The memo is read under one read lock for the whole answer and the
// annotations it did not hold are added under one write lock after, rather than a lock
// and unlock for each of the few hundred annotations of an answer.
func (e *encodedMemo) appendChanged(b []byte, place placed, ch annotations.SharedChanges) ([]byte, error) {
	type written struct {
		id         string
		start, end int // in b
		encoded
	}
	var fresh []written
	stamp, stamped := ch.LabelStamp()
	if !stamped {
		stamp = 0 // no stamp: the labels are compared
	}
	e.mu.RLock()
	for i, shared := range ch.Changed {
		if i > 0 {
			b = append(b, ',')
		}
		m, ok := e.m[shared.ID]
		if ok && m.version == shared.Version && stamp != 0 && m.stamp == stamp {
			// Under one stamp, the version's label is the one it was written with: no
			// need to look it up (a map lookup by label id for each annotation).
			b = append(b, m.json...)
			continue
		}
		label := ch.Label(shared)
		if ok && m.version == shared.Version && sameLabel(m.label, label) {
			b = append(b, m.json...)
			continue
		}
		a := *shared
		a.Label = label
		a.Ground = place.ground.measure(place.p, &a)
		start := len(b)
		var err error
		if b, err = a.AppendJSON(b); err != nil {
			e.mu.RUnlock()
			return nil, err
		}
		fresh = append(fresh, written{id: a.ID, start: start, end: len(b), encoded: encoded{version: a.Version, label: label, stamp: stamp}})
	}
	e.mu.RUnlock()
	if len(fresh) == 0 {
		return b, nil
	}
	e.mu.Lock()
	for _, w := range fresh {
		if e.m == nil || len(e.m) >= maxEncodedMemo {
			e.m = map[string]*encoded{}
		}
		w.json = bytes.Clone(b[w.start:w.end]) // b is a pooled buffer: the memo keeps its own
		e.m[w.id] = &w.encoded
	}
	e.mu.Unlock()
	return b, nil
}

// sameLabel: a and b are the label as the taxonomy had it at one time.
func sameLabel(a, b annotations.Label) bool {
	return a.ID == b.ID && a.Name == b.Name && a.ParentID == b.ParentID && a.Color == b.Color && a.Hotkey == b.Hotkey && slices.Equal(a.Path, b.Path)
}
