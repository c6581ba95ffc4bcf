package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// The operations an analyst performs, in the order the report lists them.
const (
	opCreate  = "create"
	opEdit    = "edit"
	opDelete  = "delete"
	opComment = "comment"
	opList    = "list"
	opChanges = "changes"
)

var operations = []string{opCreate, opEdit, opDelete, opComment, opList, opChanges}

// image is a shared image the analysts annotate.
type image struct {
	ID     string `json:"id"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// gate tells the analysts where the server is, and holds them while it is down (killed
// and not yet restarted). Each life of the server is an epoch.
type gate struct {
	mu     sync.Mutex
	parked *sync.Cond // signalled when an analyst parks or leaves
	base   string
	epoch  int
	up     chan struct{} // closed while the server is up
	active int           // analysts still running
	held   int           // analysts waiting for the server
}

func newGate(base string, analysts int) *gate {
	g := &gate{base: base, up: make(chan struct{}), active: analysts}
	g.parked = sync.NewCond(&g.mu)
	close(g.up)
	return g
}

// wait returns the server's base URL and epoch once it is up, or false when ctx ends.
func (g *gate) wait(ctx context.Context) (string, int, bool) {
	g.mu.Lock()
	up := g.up
	select {
	case <-up:
		defer g.mu.Unlock()
		return g.base, g.epoch, ctx.Err() == nil
	default:
	}
	g.held++
	g.parked.Broadcast()
	g.mu.Unlock()
	select {
	case <-up:
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held--
	return g.base, g.epoch, ctx.Err() == nil
}

// leave says an analyst has stopped.
func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	g.parked.Broadcast()
}

// down marks the server as going away: requests of the current epoch that fail from now
// on were cut by the kill, and the analysts stop at the gate.
func (g *gate) down() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.epoch++
	g.up = make(chan struct{})
}

// waitHeld returns once every analyst still running waits at the gate, so none has a
// request in flight or a write not yet journalled.
func (g *gate) waitHeld() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.held < g.active {
		g.parked.Wait()
	}
}

// open lets the analysts go on against the server at base.
func (g *gate) open(base string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.base = base
	close(g.up)
}

// current is the epoch now.
func (g *gate) current() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.epoch
}

// write is one journal entry: a write the server acknowledged (2xx), refused (404, 412)
// or left in doubt (no answer, or a 5xx).
type write struct {
	Outcome  string          `json:"outcome"` // ack, refused or doubt
	Op       string          `json:"op"`      // create, edit or delete
	Analyst  string          `json:"analyst"`
	ImageID  string          `json:"image_id"`
	ID       string          `json:"id,omitempty"`       // the annotation ("" for a create not acknowledged)
	Version  int             `json:"version"`            // acknowledged version; the base version of an edit or delete not acknowledged
	Note     string          `json:"note,omitempty"`     // the unique marker a create or edit carried
	Geometry json.RawMessage `json:"geometry,omitempty"` // the geometry sent, if any
	Status   int             `json:"status,omitempty"`
	Err      string          `json:"err,omitempty"`
	Epoch    int             `json:"epoch"` // which life of the server it went to
}

// The outcomes of a write.
const (
	acked   = "ack"
	refused = "refused"
	inDoubt = "doubt"
)

// journal keeps every write in memory and appends it, one JSON line each, to a file.
type journal struct {
	mu     sync.Mutex
	writes []write
	f      *os.File
	err    error
}

func (j *journal) add(w write) {
	line, _ := json.Marshal(w)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writes = append(j.writes, w)
	if _, err := j.f.Write(append(line, '\n')); err != nil && j.err == nil {
		j.err = err
	}
}

// all returns a copy of the journal so far.
func (j *journal) all() []write {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.writes)
}

// opStats counts one operation's requests.
type opStats struct {
	latencies []time.Duration // of requests that got an answer
	status    map[int]int
	noAnswer  int // transport errors and timeouts while the server was up
	cut       int // requests cut by the kill
}

func (s *opStats) merge(o *opStats) {
	s.latencies = append(s.latencies, o.latencies...)
	for k, v := range o.status {
		s.status[k] += v
	}
	s.noAnswer += o.noAnswer
	s.cut += o.cut
}

func newStats() map[string]*opStats {
	m := map[string]*opStats{}
	for _, op := range append(operations, "all") {
		m[op] = &opStats{status: map[int]int{}}
	}
	return m
}

// known is what an analyst knows of one image's annotations: the ids in creation order
// (as the list returns them) and the version last seen of each.
type known struct {
	seq     string // Satmark-Seq of the first page of the last full read, then of the last changes; "" before any
	ids     []string
	version map[string]int
	shape   map[string]string
}

func (k *known) forget(id string) {
	if i := slices.Index(k.ids, id); i >= 0 {
		k.ids = slices.Delete(k.ids, i, i+1)
	}
	delete(k.version, id)
	delete(k.shape, id)
}

// forgetAll forgets every id of gone in one pass over the ids, instead of one per
// deletion (a changes answer can carry many). The pass hashes an id (a map lookup) only
// when a bit for its last two bytes is set: an analyst knows thousands of ids, and
// looking each up for every answer was a tenth of this program's CPU.
func (k *known) forgetAll(gone []string) {
	var drop map[string]struct{}
	var bits [tailBits / 64]uint64
	for _, id := range gone {
		if _, ok := k.version[id]; !ok {
			continue // not known (created and deleted since this analyst last read)
		}
		if drop == nil {
			drop = make(map[string]struct{}, len(gone))
		}
		drop[id] = struct{}{}
		t := tail(id)
		bits[t/64] |= 1 << (t % 64)
		delete(k.version, id)
		delete(k.shape, id)
	}
	if drop == nil {
		return
	}
	k.ids = slices.DeleteFunc(k.ids, func(id string) bool {
		if t := tail(id); bits[t/64]&(1<<(t%64)) == 0 {
			return false
		}
		_, ok := drop[id]
		return ok
	})
}

// tailBits is the size of the filter forgetAll sets a bit of for each id it drops.
const tailBits = 4096

// tail is a number below tailBits from the last two bytes of id and its length.
func tail(id string) uint {
	n := uint(len(id))
	if n >= 2 {
		n ^= uint(id[len(id)-1])<<5 ^ uint(id[len(id)-2])
	}
	return n % tailBits
}

// analyst is one simulated analyst with their own token, working over the shared images.
type analyst struct {
	name, token string
	client      *http.Client
	images      []image
	labels      []string // label ids to choose from
	think       time.Duration
	rng         *rand.Rand
	gate        *gate
	journal     *journal
	known       []known // by image
	stats       map[string]*opStats
	writes      int
	header      http.Header // the headers of the last answer do got
	broken      int         // 2xx answers whose body is not what the API promises
	unexpected  []string    // first few unexpected answers, for the report
}

// hotSpot is how many of an image's newest annotations half of the edits go to, so that
// analysts contend for the same annotations and some edits meet a 412.
const hotSpot = 8

// run performs random operations until ctx ends; the request in flight then finishes.
func (a *analyst) run(ctx context.Context) {
	defer a.gate.leave()
	a.known = make([]known, len(a.images))
	for i := range a.known {
		a.known[i] = known{version: map[string]int{}, shape: map[string]string{}}
	}
	for {
		base, epoch, ok := a.gate.wait(ctx)
		if !ok {
			return
		}
		img := a.rng.IntN(len(a.images))
		switch r := a.rng.IntN(100); {
		case r < 40:
			a.create(base, epoch, img)
		case r < 70 && a.pick(&img):
			a.edit(base, epoch, img)
		case r < 85 && a.pick(&img):
			a.delete(base, epoch, img)
		case r < 90 && a.pick(&img):
			a.comment(base, epoch, img)
		default:
			a.list(base, epoch, img)
		}
		if a.think > 0 {
			select {
			case <-time.After(time.Duration(a.rng.Int64N(int64(a.think)))):
			case <-ctx.Done():
				return
			}
		}
	}
}

// pick chooses an image the analyst knows annotations of, preferring img; false when
// they know none.
func (a *analyst) pick(img *int) bool {
	for i := range a.images {
		j := (*img + i) % len(a.images)
		if len(a.known[j].ids) > 0 {
			*img = j
			return true
		}
	}
	return false
}

// target chooses an annotation of image img: half the time one of the newest.
func (a *analyst) target(img int) (id string, version int, shape string) {
	ids := a.known[img].ids
	i := a.rng.IntN(len(ids))
	if a.rng.IntN(2) == 0 && len(ids) > hotSpot {
		i = len(ids) - 1 - a.rng.IntN(hotSpot)
	}
	id = ids[i]
	return id, a.known[img].version[id], a.known[img].shape[id]
}

// marker is a note no other write carries, to find the write in the database.
func (a *analyst) marker() string {
	a.writes++
	return fmt.Sprintf("%s-w%d", a.name, a.writes)
}

type annotationJSON struct {
	ID         string `json:"id"`
	Shape      string `json:"shape"`
	Version    int    `json:"version"`
	Properties struct {
		Note string `json:"note"`
	} `json:"properties"`
}

func (a *analyst) create(base string, epoch, img int) {
	im := a.images[img]
	shape := []string{"point", "rectangle", "polygon"}[a.rng.IntN(3)]
	geom := a.geometry(shape, im)
	note := a.marker()
	body, _ := json.Marshal(map[string]any{
		"label": a.labels[a.rng.IntN(len(a.labels))], "shape": shape, "geometry": geom,
		"properties": map[string]any{"note": note, "confidence": "possible"},
	})
	w := write{Op: opCreate, Analyst: a.name, ImageID: im.ID, Note: note, Geometry: geom, Epoch: epoch}
	status, resp, err := a.do(opCreate, epoch, http.MethodPost, base+"/api/v1/images/"+im.ID+"/annotations", body, nil)
	var got annotationJSON
	switch {
	case err != nil || status >= 500:
		w.Outcome, w.Status, w.Err = inDoubt, status, errString(err)
	case status == http.StatusCreated && json.Unmarshal(resp, &got) == nil && got.ID != "":
		w.Outcome, w.ID, w.Version = acked, got.ID, got.Version
		k := &a.known[img]
		k.ids = append(k.ids, got.ID)
		k.version[got.ID], k.shape[got.ID] = got.Version, got.Shape
	default:
		a.unexpectedAnswer(opCreate, status, resp)
		return
	}
	a.journal.add(w)
}

func (a *analyst) edit(base string, epoch, img int) {
	id, version, shape := a.target(img)
	note := a.marker()
	patch := map[string]any{"version": version, "properties": map[string]any{"note": note}}
	var geom json.RawMessage
	if a.rng.IntN(10) < 7 {
		geom = a.geometry(shape, a.images[img])
		patch["geometry"] = geom
	}
	body, _ := json.Marshal(patch)
	w := write{Op: opEdit, Analyst: a.name, ImageID: a.images[img].ID, ID: id, Version: version, Note: note, Geometry: geom, Epoch: epoch}
	status, resp, err := a.do(opEdit, epoch, http.MethodPatch, base+"/api/v1/annotations/"+id, body, nil)
	switch {
	case err != nil || status >= 500:
		w.Outcome, w.Status, w.Err = inDoubt, status, errString(err)
	case status == http.StatusOK:
		var got annotationJSON
		if json.Unmarshal(resp, &got) != nil || got.ID != id || got.Version != version+1 || got.Properties.Note != note {
			a.unexpectedAnswer(opEdit, status, resp)
			return
		}
		w.Outcome, w.Version = acked, got.Version
		a.known[img].version[id] = got.Version
	case !a.refused(&w, img, status, resp):
		a.unexpectedAnswer(opEdit, status, resp)
		return
	}
	a.journal.add(w)
}

func (a *analyst) delete(base string, epoch, img int) {
	id, version, _ := a.target(img)
	w := write{Op: opDelete, Analyst: a.name, ImageID: a.images[img].ID, ID: id, Version: version, Epoch: epoch}
	status, resp, err := a.do(opDelete, epoch, http.MethodDelete, base+"/api/v1/annotations/"+id, nil,
		map[string]string{"If-Match": fmt.Sprintf(`"%d"`, version)})
	switch {
	case err != nil || status >= 500:
		w.Outcome, w.Status, w.Err = inDoubt, status, errString(err)
	case status == http.StatusNoContent:
		w.Outcome = acked
		a.known[img].forget(id)
	case !a.refused(&w, img, status, resp):
		a.unexpectedAnswer(opDelete, status, resp)
		return
	}
	a.journal.add(w)
}

// refused records an edit or delete the server refused: 412, someone changed the
// annotation first (its current version is learnt); 404, someone deleted it. It
// reports false for any other status.
func (a *analyst) refused(w *write, img, status int, resp []byte) bool {
	switch status {
	case http.StatusPreconditionFailed:
		a.learnCurrent(img, w.ID, resp)
	case http.StatusNotFound:
		a.known[img].forget(w.ID)
	default:
		return false
	}
	w.Outcome, w.Status = refused, status
	return true
}

// learnCurrent takes the current version from a 412's error.current.
func (a *analyst) learnCurrent(img int, id string, resp []byte) {
	var e struct {
		Error struct {
			Current *annotationJSON `json:"current"`
		} `json:"error"`
	}
	if json.Unmarshal(resp, &e) == nil && e.Error.Current != nil && e.Error.Current.ID == id {
		a.known[img].version[id] = e.Error.Current.Version
		return
	}
	a.known[img].forget(id)
}

// comment posts a comment on an annotation (a write outside any transaction of the
// store's), with a unique marker as its text.
func (a *analyst) comment(base string, epoch, img int) {
	id, _, _ := a.target(img)
	note := a.marker()
	body, _ := json.Marshal(map[string]string{"body": note})
	w := write{Op: opComment, Analyst: a.name, ImageID: a.images[img].ID, ID: id, Note: note, Epoch: epoch}
	status, resp, err := a.do(opComment, epoch, http.MethodPost, base+"/api/v1/annotations/"+id+"/comments", body, nil)
	switch {
	case err != nil || status >= 500:
		w.Outcome, w.Status, w.Err = inDoubt, status, errString(err)
	case status == http.StatusCreated:
		var got struct {
			AnnotationID string `json:"annotation_id"`
			Body         string `json:"body"`
		}
		if json.Unmarshal(resp, &got) != nil || got.AnnotationID != id || got.Body != note {
			a.unexpectedAnswer(opComment, status, resp)
			return
		}
		w.Outcome = acked
	case status == http.StatusNotFound:
		w.Outcome, w.Status = refused, status
		a.known[img].forget(id)
	default:
		a.unexpectedAnswer(opComment, status, resp)
		return
	}
	a.journal.add(w)
}

// list does what the annotator page (web/src/feed.js, savechain.js) does to know an
// image's annotations: the first time, or when the server cannot say what changed (410),
// it reads them page by page (?limit=2000, then the Link header's next page with
// ?limit=10000), keeping the first page's Satmark-Seq; after that it asks only for the
// changes since (GET …/annotations/changes?since=), as the page does when its live
// stream reconnects, and merges them.
func (a *analyst) list(base string, epoch, img int) {
	if a.known[img].seq != "" && a.changes(base, epoch, img) {
		return
	}
	path := "/api/v1/images/" + a.images[img].ID + "/annotations?limit=2000"
	k := known{version: map[string]int{}, shape: map[string]string{}}
	for first := true; path != ""; first = false {
		status, resp, err := a.do(opList, epoch, http.MethodGet, base+path, nil, nil)
		if err != nil || status != http.StatusOK {
			if err == nil {
				a.unexpectedAnswer(opList, status, resp)
			}
			return
		}
		var anns []annotationJSON
		if err := json.Unmarshal(resp, &anns); err != nil {
			a.unexpectedAnswer(opList, status, resp)
			return
		}
		if first {
			k.seq = a.header.Get("Satmark-Seq")
		}
		for _, an := range anns {
			k.ids = append(k.ids, an.ID)
			k.version[an.ID], k.shape[an.ID] = an.Version, an.Shape
		}
		path = nextPage(a.header.Get("Link"))
	}
	a.known[img] = k
}

// nextPage is the rel="next" address of a Link header asking for 10,000 (as feed.js
// does), or "".
func nextPage(link string) string {
	start, end := strings.Index(link, "<"), strings.Index(link, ">")
	if start < 0 || end < start || !strings.Contains(link[end:], `rel="next"`) {
		return ""
	}
	u, err := url.Parse(link[start+1 : end])
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("limit", "10000")
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// changes merges what changed on the image since the analyst's last read; false when the
// server says only a full read can tell (410) or the answer is not usable.
func (a *analyst) changes(base string, epoch, img int) bool {
	k := &a.known[img]
	status, resp, err := a.do(opChanges, epoch, http.MethodGet,
		base+"/api/v1/images/"+a.images[img].ID+"/annotations/changes?since="+url.QueryEscape(k.seq), nil, nil)
	if err != nil {
		return true // the server went away: the next read asks again
	}
	if status == http.StatusGone {
		return false
	}
	// Decoded with encoding/json v2 (go-json-experiment): these answers are the largest the
	// analysts read (a few hundred annotations each under 50 analysts), and decoding them
	// with encoding/json was most of this program's CPU, which the server shares. v2 is
	// stricter, not looser: names match exactly, duplicate names and invalid UTF-8 are
	// refused, and seq must be a whole number.
	var delta struct {
		Seq     *int64           `json:"seq"`
		Changed []annotationJSON `json:"changed"`
		Deleted []string         `json:"deleted"`
	}
	if status != http.StatusOK || jsonv2.Unmarshal(resp, &delta) != nil || delta.Seq == nil {
		a.unexpectedAnswer(opChanges, status, resp)
		return true
	}
	k.forgetAll(delta.Deleted)
	for _, an := range delta.Changed {
		if _, ok := k.version[an.ID]; !ok {
			k.ids = append(k.ids, an.ID)
		}
		k.version[an.ID], k.shape[an.ID] = an.Version, an.Shape
	}
	k.seq = strconv.FormatInt(*delta.Seq, 10)
	return true
}

// errCutByKill is the error of a request the proxy answered 502 because the process it
// was in flight on was killed.
var errCutByKill = errors.New("in flight on the killed process (502 from the proxy)")

// do sends one request and records its latency and status. A request that gets no
// answer counts as cut by the kill when the server went down meanwhile.
func (a *analyst) do(op string, epoch int, method, url string, body []byte, header map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := a.client.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	took := time.Since(start)
	// The proxy's 502 for a request in flight on the process the test killed.
	cutByProxy := err == nil && resp.StatusCode == http.StatusBadGateway && resp.Header.Get(cutHeader) != ""
	if cutByProxy {
		err = errCutByKill
	}
	if err == nil {
		a.header = resp.Header
	}
	for _, s := range []*opStats{a.stats[op], a.stats["all"]} {
		switch {
		case cutByProxy || (err != nil && a.gate.current() != epoch):
			s.cut++
		case err != nil:
			s.noAnswer++
		default:
			s.latencies = append(s.latencies, took)
			s.status[resp.StatusCode]++
		}
	}
	if err != nil {
		if !cutByProxy && a.gate.current() == epoch {
			a.note(fmt.Sprintf("%s %s: no answer while the server was up: %v", method, url, err))
		}
		return 0, nil, err
	}
	if resp.StatusCode >= 500 {
		a.note(fmt.Sprintf("%s %s: %s: %s", method, url, resp.Status, truncate(data)))
	}
	return resp.StatusCode, data, nil
}

func (a *analyst) unexpectedAnswer(op string, status int, body []byte) {
	if status/100 == 2 {
		a.broken++ // other statuses are counted by status
	}
	a.note(fmt.Sprintf("%s: unexpected answer %d: %s", op, status, truncate(body)))
}

func (a *analyst) note(s string) {
	if len(a.unexpected) < 5 {
		a.unexpected = append(a.unexpected, a.name+": "+s)
	}
}

func truncate(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// geometry makes a random geometry of the given shape inside the image, with
// coordinates in hundredths of a pixel (exact in JSON both ways).
func (a *analyst) geometry(shape string, im image) json.RawMessage {
	W, H := float64(im.Width), float64(im.Height)
	at := func(lo, hi float64) float64 { return math.Round((lo+a.rng.Float64()*(hi-lo))*100) / 100 }
	x, y := at(0, W-200), at(0, H-200)
	w, h := at(4, 200), at(4, 200)
	var g any
	switch shape {
	case "point":
		g = map[string]any{"type": "Point", "coordinates": []float64{x, y}}
	case "line":
		g = map[string]any{"type": "LineString", "coordinates": [][]float64{{x, y}, {x + w, y + h}}}
	case "polygon":
		g = map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{x, y}, {x + w, y}, {x + w/2, y + h}, {x, y}}}}
	default: // rectangle, rotated_rectangle: an axis-aligned box is both
		g = map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}, {x, y}}}}
	}
	b, _ := json.Marshal(g)
	return b
}
