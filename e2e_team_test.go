package main

// Browser tests of team work: two analysts on one image see each other's changes live,
// a stale save shows a conflict instead of overwriting, review and comments go through
// the annotator, viewers read without editing, and administrators manage users and the
// trash. Each analyst has a browser of their own.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// liveWithin is how soon a change saved in one browser must show in another.
const liveWithin = time.Second

// portImage returns the sample port, which has annotations and a georeference.
func portImage(t *testing.T, a *app) annotations.Image {
	t.Helper()
	images, err := a.Store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if strings.Contains(img.Title, "port") {
			return img
		}
	}
	t.Fatalf("no sample port among %d images", len(images))
	return annotations.Image{}
}

// openAnnotator signs in as name on an image's page and waits until its annotations are
// loaded and its live updates connected.
func (b *browserSession) openAnnotator(t *testing.T, a *app, imageID, name string) {
	t.Helper()
	b.signIn(t, a, "/images/"+imageID, name)
	b.waitFor(t, "the annotator, live", `document.getElementById('annotator')?.dataset.ready === 'true' && document.getElementById('annotator').dataset.live === 'true'`)
}

// waitLive waits for what another browser saved to show here, within liveWithin.
func (b *browserSession) waitLive(t *testing.T, what, js string) {
	t.Helper()
	start := time.Now()
	b.waitFor(t, what, js)
	if d := time.Since(start); d > liveWithin {
		t.Errorf("%s took %v to arrive, want at most %v", what, d.Round(time.Millisecond), liveWithin)
	}
}

// shownAsText checks that what someone wrote (textSel) shows exactly as typed with its
// author (whoSel), and that no markup in it became elements anywhere in list.
func (b *browserSession) shownAsText(t *testing.T, list, textSel, whoSel, text, who string) {
	t.Helper()
	if got := b.text(t, textSel); got != text {
		t.Errorf("%s shows %q, want the text as typed, %q", textSel, got, text)
	}
	if got := b.text(t, whoSel); got != who {
		t.Errorf("%s says %q, want %q", whoSel, got, who)
	}
	if n := evalJS[int](t, b, fmt.Sprintf(`document.querySelectorAll('%[1]s img, %[1]s script').length`, list)); n != 0 {
		t.Errorf("markup in %s became %d elements", list, n)
	}
}

func (b *browserSession) text(t *testing.T, selector string) string {
	t.Helper()
	return evalJS[string](t, b, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, selector))
}

func (b *browserSession) visible(t *testing.T, selector string) bool {
	t.Helper()
	return evalJS[bool](t, b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.offsetParent !== null; })()`, selector))
}

// annotationJS is an expression for the page's copy of an annotation.
func annotationJS(id string) string {
	return fmt.Sprintf(`satmark.annotations().find(a => a.id === %q)`, id)
}

// apiClient calls the JSON API as a user, with an API token, as a script would.
type apiClient struct {
	url, token string
}

func (a *app) apiAs(t *testing.T, name string) apiClient {
	t.Helper()
	u, err := a.Store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	secret, hash := annotations.NewAPIToken()
	if _, err := a.Store.CreateToken(context.Background(), annotations.Actor{Name: "tester"}, u.ID, "browser test", hash); err != nil {
		t.Fatal(err)
	}
	return apiClient{url: a.url, token: secret}
}

// do sends a request and decodes the answer into out (when not nil); want is the status.
func (c apiClient) do(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// drawVehiclePoint draws a vehicle point at (1200.5, 1400.5) on the sample port's page,
// waits until it is saved, and returns it as stored; before is the image's annotations
// until then.
func (b *browserSession) drawVehiclePoint(t *testing.T, a *app, imageID string, before []annotations.Annotation) annotations.Annotation {
	t.Helper()
	b.do(t, chromedp.Evaluate[chromedp.Void](`satmark.map.getView().fit([1000, -2700, 3000, -1300])`))
	b.setField(t, "#draw-label", a.label(t, "vehicle").ID)
	b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=point]`)))
	b.clickImage(t, 1200.5, 1400.5)
	b.waitFor(t, "the saved point", fmt.Sprintf(`document.querySelectorAll('#annotation-list li').length === %d && document.getElementById('save-state').textContent === 'All changes saved'`, len(before)+1))
	return newest(t, before, a.annotationsOf(t, imageID))
}

func TestBrowserTwoAnalystsLive(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Ben Analyst", annotations.RoleAnalyst)
	ada, ben := newBrowser(t), newBrowser(t)
	ada.openAnnotator(t, a, port.ID, "Ada Analyst")
	ben.openAnnotator(t, a, port.ID, "Ben Analyst")

	// Ada draws a point: it appears in Ben's list, flashing, without a reload.
	before := a.annotationsOf(t, port.ID)
	point := ada.drawVehiclePoint(t, a, port.ID, before)
	ben.waitLive(t, "Ada's point in Ben's list", fmt.Sprintf(`!!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, point.ID))
	if !evalJS[bool](t, ben, fmt.Sprintf(`document.querySelector('#annotation-list li[data-annotation-id=%q]').classList.contains('changed')`, point.ID)) {
		t.Error("a change by someone else does not flash in the list")
	}
	if n := evalJS[int](t, ben, `document.querySelectorAll('#annotation-list li').length`); n != len(before)+1 {
		t.Errorf("Ben's list has %d entries, want %d (the point once)", n, len(before)+1)
	}
	if n := evalJS[int](t, ada, `document.querySelectorAll('#annotation-list li').length`); n != len(before)+1 {
		t.Errorf("Ada's list has %d entries after her own live echo, want %d", n, len(before)+1)
	}

	// Ada moves it: Ben sees the new version.
	ada.do(t, chromedp.Click(chromedp.CSS(`[data-tool=select]`)))
	ada.selectInList(t, point.ID)
	ada.dragImage(t, [2]float64{1200.5, 1400.5}, [2]float64{1260.5, 1430.5})
	ada.waitFor(t, "the move saved", annotationJS(point.ID)+`.version === 2`)
	moved, err := a.Store.Annotation(ctx, point.ID)
	if err != nil || moved.Version != 2 || !near(moved.Geometry.Coordinates[0][0], annotations.Position{1260.5, 1430.5}, 2) {
		t.Fatalf("after the move: %+v, %v; want version 2 near (1260.5, 1430.5)", moved.Geometry, err)
	}
	p := moved.Geometry.Coordinates[0][0]
	ben.waitLive(t, "the moved point in Ben's page", fmt.Sprintf(`(() => { const a = %s; return a.version === 2 && a.geometry.coordinates[0] === %v && a.geometry.coordinates[1] === %v; })()`, annotationJS(point.ID), p[0], p[1]))

	// Ben deletes a sample annotation Ada has selected: it vanishes from her page, and
	// she is told who deleted it.
	sample := before[0]
	ada.selectInList(t, sample.ID)
	ben.selectInList(t, sample.ID)
	ben.do(t, chromedp.Click(chromedp.ID("delete-annotation")))
	ben.waitFor(t, "the deletion", fmt.Sprintf(`!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, sample.ID))
	if _, err := a.Store.Annotation(ctx, sample.ID); err == nil {
		t.Fatal("the deleted annotation is still stored")
	}
	ada.waitLive(t, "the deletion in Ada's page", fmt.Sprintf(`!document.querySelector('#annotation-list li[data-annotation-id=%q]') && document.getElementById('editor').hidden`, sample.ID))
	if got := ada.text(t, "#flash"); !strings.Contains(got, "Ben Analyst deleted") {
		t.Errorf("Ada's page says %q, want it to say Ben Analyst deleted her selection", got)
	}

	// A stale edit: Ada starts a note, Ben saves his first.
	ada.selectInList(t, point.ID)
	ben.selectInList(t, point.ID)
	adaNote := "Two trucks, Ada " + xss
	benNote := "One truck, Ben"
	ada.typeInto(t, "#edit-note", adaNote)
	ben.setField(t, "#edit-note", benNote)
	ben.waitFor(t, "Ben's note saved", annotationJS(point.ID)+`.version === 3`)
	ada.waitLive(t, "the notice of Ben's change", `!document.getElementById('live-notice').hidden && document.getElementById('live-notice-text').textContent.includes('Ben Analyst changed this annotation (version 3) while you were editing')`)
	if got := evalJS[string](t, ada, `document.getElementById('edit-note').value`); got != adaNote {
		t.Errorf("Ada's unsaved note became %q, want her text kept", got)
	}
	// Ada saves: refused as stale, shown as a conflict naming Ben and his version.
	evalJS[chromedp.Void](t, ada, `document.getElementById('edit-note').dispatchEvent(new Event('change', {bubbles: true}))`)
	ada.waitFor(t, "the conflict bar", `(() => { const c = document.getElementById('conflict'); return !c.hidden && c.dataset.theirsBy === 'Ben Analyst' && c.dataset.theirsVersion === '3'; })()`)
	if got := ada.text(t, "#conflict-text"); !strings.Contains(got, "Ben Analyst saved version 3") {
		t.Errorf("conflict bar says %q, want it to name Ben Analyst and version 3", got)
	}
	if got := ada.text(t, "#conflict-mine"); !strings.Contains(got, adaNote) {
		t.Errorf("conflict bar says %q, want it to show Ada's unsaved note", got)
	}
	if got := evalJS[string](t, ada, annotationJS(point.ID)+`.properties.note`); got != benNote {
		t.Errorf("during the conflict Ada's page shows the note %q, want Ben's version", got)
	}
	if got := evalJS[string](t, ada, `document.getElementById('edit-note').value`); got != benNote {
		t.Errorf("during the conflict the editor shows %q, want Ben's version", got)
	}
	if n := evalJS[int](t, ada, `document.querySelectorAll('img[src=x], #conflict img').length`); n != 0 {
		t.Errorf("markup in the note became %d elements", n)
	}
	if stored, _ := a.Store.Annotation(ctx, point.ID); stored.Version != 3 || stored.Note != benNote {
		t.Fatalf("after the refused save: version %d note %q, want Ben's version 3 untouched", stored.Version, stored.Note)
	}
	// Reapply: Ada's note lands as the next version, on top of Ben's.
	ada.do(t, chromedp.Click(chromedp.ID("conflict-reapply")))
	ada.waitFor(t, "the reapplied note", fmt.Sprintf(`document.getElementById('conflict').hidden && %s.version === 4 && document.getElementById('save-state').textContent === 'All changes saved'`, annotationJS(point.ID)))
	stored, _ := a.Store.Annotation(ctx, point.ID)
	if stored.Version != 4 || stored.Note != adaNote || stored.UpdatedBy != "Ada Analyst" {
		t.Errorf("after reapplying: version %d note %q by %s, want version 4 with Ada's note by Ada", stored.Version, stored.Note, stored.UpdatedBy)
	}
	revs, err := a.Store.History(ctx, point.ID)
	if err != nil || len(revs) != 4 {
		t.Fatalf("history: %d revisions, %v; want 4", len(revs), err)
	}
	if r := revs[2]; r.Version != 3 || r.Actor != "Ben Analyst" || r.After.Note != benNote {
		t.Errorf("revision 3: %d by %s with note %q, want Ben's note", r.Version, r.Actor, r.After.Note)
	}
	if r := revs[3]; r.Version != 4 || r.Actor != "Ada Analyst" || r.Before.Note != benNote || r.After.Note != adaNote {
		t.Errorf("revision 4: %d by %s, note %q → %q; want Ada replacing Ben's note", r.Version, r.Actor, r.Before.Note, r.After.Note)
	}
	ben.waitLive(t, "Ada's note in Ben's editor", fmt.Sprintf(`document.getElementById('edit-note').value === %q`, adaNote))
}

func TestBrowserReview(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Ben Analyst", annotations.RoleAnalyst)
	label, shape := "vehicle", annotations.ShapePoint
	ann, err := a.Store.CreateAnnotation(ctx, "Ada Analyst", port.ID, annotations.AnnotationInput{
		Label: &label, Shape: &shape, Geometry: json.RawMessage(`{"type": "Point", "coordinates": [1500.5, 1500.5]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		t.Helper()
		got, err := a.Store.Annotation(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.ReviewStatus
	}
	statusIs := func(st string) string {
		return fmt.Sprintf(`document.getElementById('review-status').textContent === %q && document.querySelector('#annotation-list li[data-annotation-id=%q]')?.dataset.status === %q`, st, ann.ID, st)
	}
	ada, ben := newBrowser(t), newBrowser(t)
	ada.openAnnotator(t, a, port.ID, "Ada Analyst")
	ben.openAnnotator(t, a, port.ID, "Ben Analyst")
	ada.selectInList(t, ann.ID)
	ben.selectInList(t, ann.ID)

	// Ada submits her work; she cannot decide on it herself.
	ada.waitFor(t, "a draft", statusIs("draft")+` && !document.getElementById('review-submit').hidden`)
	ada.do(t, chromedp.Click(chromedp.ID("review-submit")))
	ada.waitFor(t, "submitted", statusIs("submitted"))
	if got := status(); got != "submitted" {
		t.Fatalf("stored review status %q, want submitted", got)
	}
	if ada.visible(t, "#review-accept") || ada.visible(t, "#review-submit") {
		t.Error("Ada is offered to accept or resubmit her own submitted work")
	}

	// Ben sees it submitted; disputing needs a reason, which shows as text.
	ben.waitLive(t, "the submission in Ben's page", statusIs("submitted")+` && !document.getElementById('review-decide').hidden`)
	ben.do(t, chromedp.Click(chromedp.ID("review-dispute")))
	ben.waitFor(t, "the missing reason", `!document.getElementById('review-error').hidden`)
	if got := status(); got != "submitted" {
		t.Errorf("a dispute without a reason was saved: status %q", got)
	}
	reason := "Looks like a shadow " + xss
	ben.setField(t, "#review-reason", reason)
	ben.do(t, chromedp.Click(chromedp.ID("review-dispute")))
	ben.waitFor(t, "disputed", statusIs("disputed"))
	reviews, _ := a.Store.Reviews(ctx, ann.ID)
	if len(reviews) != 2 || reviews[1].Decision != "disputed" || reviews[1].Reason != reason || reviews[1].Reviewer != "Ben Analyst" {
		t.Fatalf("stored reviews %+v, want Ada's submission and Ben's dispute with the reason", reviews)
	}
	ada.waitLive(t, "the dispute in Ada's page", statusIs("disputed")+` && document.querySelectorAll('#reviews li').length === 2`)
	ada.shownAsText(t, "#reviews", "#reviews li[data-decision=disputed] .reason", "#reviews li[data-decision=disputed] .reviewer", reason, "Ben Analyst")

	// Ada resubmits, Ben accepts.
	ada.do(t, chromedp.Click(chromedp.ID("review-submit")))
	ada.waitFor(t, "resubmitted", statusIs("submitted"))
	ben.waitLive(t, "the resubmission in Ben's page", statusIs("submitted")+` && !document.getElementById('review-decide').hidden`)
	ben.do(t, chromedp.Click(chromedp.ID("review-accept")))
	ben.waitFor(t, "accepted", statusIs("accepted"))
	if got := status(); got != "accepted" {
		t.Fatalf("stored review status %q, want accepted", got)
	}
	ada.waitLive(t, "the acceptance in Ada's page", statusIs("accepted")+` && document.querySelector('#review-counts [data-status=accepted]').dataset.count === '1'`)

	// Ben comments; Ada reads it, as text, live.
	comment := "Confirmed against the October release " + xss
	ben.setField(t, "#comment-body", comment)
	ben.do(t, chromedp.Click(chromedp.ID("comment-submit")))
	ben.waitFor(t, "Ben's comment", `document.querySelectorAll('#comment-list li').length === 1 && document.getElementById('comment-body').value === ''`)
	ada.waitLive(t, "the comment in Ada's page", `document.querySelectorAll('#comment-list li').length === 1`)
	ada.shownAsText(t, "#comment-list", "#comment-list li .comment-body", "#comment-list li .author", comment, "Ben Analyst")
	if cs, _ := a.Store.Comments(ctx, ann.ID); len(cs) != 1 || cs[0].Body != comment || cs[0].Author != "Ben Analyst" {
		t.Errorf("stored comments %+v", cs)
	}

	// The history says who did what in words.
	ada.do(t, chromedp.Click(chromedp.ID("show-history")))
	ada.waitFor(t, "the history", `!document.getElementById('history').hidden && document.querySelectorAll('#history li').length === 5`)
	items := evalJS[[]string](t, ada, `[...document.querySelectorAll('#history li')].map(li => li.textContent)`)
	for i, want := range []string{"created by Ada Analyst", "review: submitted", "review: disputed", "review: submitted", "review: accepted"} {
		if !strings.Contains(items[i], want) {
			t.Errorf("history entry %d: %q, want it to say %q", i+1, items[i], want)
		}
	}

	// The list filters by state.
	ada.setField(t, "#status-filter", "accepted")
	ada.waitFor(t, "the filtered list", fmt.Sprintf(`document.querySelectorAll('#annotation-list li').length === 1 && !!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, ann.ID))

	// "Accepted only" exports just that one.
	ada.do(t, chromedp.Click(chromedp.CSS("details.menu summary")))
	var fc struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	if err := json.Unmarshal(ada.download(t, "#export-accepted"), &fc); err != nil {
		t.Fatalf("the accepted export is not JSON: %v", err)
	}
	if len(fc.Features) != 1 || fc.Features[0].ID != ann.ID {
		t.Errorf("accepted export: %+v, want only %s", fc.Features, ann.ID)
	}

	// The gallery counts the accepted annotation on the port's card.
	ben.do(t, chromedp.Navigate(a.url+"/"))
	ben.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
	got := evalJS[map[string]string](t, ben, fmt.Sprintf(`(() => {
		const c = document.querySelector('.card[data-image-id=%q]');
		const acc = c.querySelector('.review-count[data-status=accepted]');
		const draft = c.querySelector('.review-count[data-status=draft]');
		return {accepted: acc ? acc.dataset.count : '', acceptedText: acc ? acc.textContent : '', draft: draft ? draft.dataset.count : '', total: c.querySelector('.card-count').dataset.count};
	})()`, port.ID))
	total := len(a.annotationsOf(t, port.ID))
	want := map[string]string{"accepted": "1", "acceptedText": "1 accepted", "draft": fmt.Sprint(total - 1), "total": fmt.Sprint(total)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("port card %s: got %q, want %q", k, got[k], v)
		}
	}
}

// TestBrowserNoSelfApproval: Ben edited Ada's annotation before she submitted it, so his
// page offers him no decision on it and says why; Cy, who wrote nothing, may decide.
func TestBrowserNoSelfApproval(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	for _, name := range []string{"Ada Analyst", "Ben Analyst", "Cy Analyst"} {
		a.addUser(t, name, annotations.RoleAnalyst)
	}
	label, shape := "vehicle", annotations.ShapePoint
	ann, err := a.Store.CreateAnnotation(ctx, "Ada Analyst", port.ID, annotations.AnnotationInput{
		Label: &label, Shape: &shape, Geometry: json.RawMessage(`{"type": "Point", "coordinates": [1500.5, 1500.5]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	v := ann.Version
	if ann, err = a.Store.UpdateAnnotation(ctx, "Ben Analyst", ann.ID, annotations.AnnotationInput{
		Geometry: json.RawMessage(`{"type": "Point", "coordinates": [1510.5, 1502.5]}`), Version: &v,
	}); err != nil {
		t.Fatal(err)
	}
	if ann, err = a.Store.ReviewAnnotation(ctx, "Ada Analyst", ann.ID, ann.Version, annotations.ReviewSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	ben, cy := newBrowser(t), newBrowser(t)
	ben.openAnnotator(t, a, port.ID, "Ben Analyst")
	cy.openAnnotator(t, a, port.ID, "Cy Analyst")
	ben.selectInList(t, ann.ID)
	cy.selectInList(t, ann.ID)
	ben.waitFor(t, "the reason Ben may not decide", `document.getElementById('review-status').textContent === 'submitted' &&
		document.getElementById('review-decide').hidden && document.getElementById('review-hint').textContent.includes('you wrote version 2')`)
	cy.waitFor(t, "Cy's decision buttons", `document.getElementById('review-status').textContent === 'submitted' && !document.getElementById('review-decide').hidden`)
	cy.do(t, chromedp.Click(chromedp.ID("review-accept")))
	cy.waitFor(t, "accepted", `document.getElementById('review-status').textContent === 'accepted'`)
	if got, _ := a.Store.Annotation(ctx, ann.ID); got.ReviewStatus != annotations.ReviewAccepted || got.UpdatedBy != "Cy Analyst" {
		t.Errorf("stored %s by %s, want accepted by Cy Analyst", got.ReviewStatus, got.UpdatedBy)
	}
}

func TestBrowserViewerReadOnly(t *testing.T) {
	a := startApp(t)
	port := portImage(t, a)
	a.addUser(t, "Vera Viewer", annotations.RoleViewer)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	anns := a.annotationsOf(t, port.ID)
	vera := newBrowser(t)
	vera.openAnnotator(t, a, port.ID, "Vera Viewer")

	// No drawing tools, no editing controls, no review or comment forms.
	for _, sel := range []string{"[data-tool=point]", "[data-tool=polygon]", "#draw-label", "#georeference-link", "#delete-annotation", "#review-actions", "#comment-form"} {
		if evalJS[bool](t, vera, fmt.Sprintf(`!!document.querySelector(%q)`, sel)) {
			t.Errorf("a viewer's annotator has %s", sel)
		}
	}
	vera.do(t, chromedp.KeyEvent("1"))
	if tool := evalJS[string](t, vera, `document.getElementById('annotator').dataset.tool || 'select'`); tool != "select" {
		t.Errorf("the key 1 gave a viewer the %s tool", tool)
	}
	// Selecting shows the annotation, disabled for editing; its history offers no restore.
	vera.selectInList(t, anns[0].ID)
	for _, sel := range []string{"#edit-label", "#edit-confidence", "#edit-identification", "#edit-note"} {
		if !evalJS[bool](t, vera, fmt.Sprintf(`document.querySelector(%q).matches(':disabled')`, sel)) {
			t.Errorf("a viewer can edit %s", sel)
		}
	}
	vera.do(t, chromedp.Click(chromedp.ID("show-history")))
	vera.waitFor(t, "the history", `!document.getElementById('history').hidden && document.querySelectorAll('#history li').length > 0`)
	if n := evalJS[int](t, vera, `document.querySelectorAll('#history .restore-version').length`); n != 0 {
		t.Errorf("a viewer is offered %d restore buttons", n)
	}

	// Viewers export.
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(vera.download(t, "#export-image"), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != len(anns) {
		t.Errorf("a viewer's export: %s with %d features, %v; want %d", fc.Type, len(fc.Features), err, len(anns))
	}

	// An analyst's work through the API shows up live, comments included.
	analyst := a.apiAs(t, "Ada Analyst")
	var created annotations.Annotation
	analyst.do(t, http.MethodPost, "/api/v1/images/"+port.ID+"/annotations", map[string]any{
		"label": "vehicle", "shape": "point", "geometry": map[string]any{"type": "Point", "coordinates": []float64{900.5, 700.5}},
		"properties": map[string]any{"note": "seen from the API " + xss},
	}, http.StatusCreated, &created)
	vera.waitLive(t, "the analyst's annotation", fmt.Sprintf(`!!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, created.ID))
	vera.selectInList(t, created.ID)
	if got := evalJS[string](t, vera, `document.getElementById('edit-note').value`); got != "seen from the API "+xss {
		t.Errorf("the note shows as %q", got)
	}
	analyst.do(t, http.MethodPost, "/api/v1/annotations/"+created.ID+"/comments", map[string]string{"body": "Check the pier " + xss}, http.StatusCreated, nil)
	vera.waitLive(t, "the analyst's comment", `document.querySelectorAll('#comment-list li').length === 1`)
	if got := vera.text(t, "#comment-list .comment-body"); got != "Check the pier "+xss {
		t.Errorf("the comment shows as %q", got)
	}
}

func TestBrowserRestoreVersion(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	ann := a.annotationsOf(t, port.ID)[0]
	v := ann.Version
	changed, err := a.Store.UpdateAnnotation(ctx, "Ada Analyst", ann.ID, annotations.AnnotationInput{Properties: json.RawMessage(`{"note": "A later, wrong note", "confidence": "possible"}`), Version: &v})
	if err != nil {
		t.Fatal(err)
	}
	ada := newBrowser(t)
	ada.openAnnotator(t, a, port.ID, "Ada Analyst")
	ada.selectInList(t, ann.ID)
	ada.do(t, chromedp.Click(chromedp.ID("show-history")))
	ada.waitFor(t, "the history", fmt.Sprintf(`document.querySelectorAll('#history li').length === %d`, changed.Version))
	items := evalJS[[]string](t, ada, `[...document.querySelectorAll('#history li')].map(li => li.textContent)`)
	last := items[len(items)-1]
	for _, want := range []string{"changed by Ada Analyst", "confidence", "possible", "note “A later, wrong note”", "(current)"} {
		if !strings.Contains(last, want) {
			t.Errorf("the latest history entry %q does not say %q", last, want)
		}
	}
	if n := evalJS[int](t, ada, `document.querySelectorAll('#history li.current .restore-version').length`); n != 0 {
		t.Error("the current version offers to restore itself")
	}
	ada.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#history li[data-version="%d"] .restore-version`, ann.Version))))
	ada.waitFor(t, "the restored version", fmt.Sprintf(`%s.version === %d && document.getElementById('edit-note').value === %q && document.querySelectorAll('#history li').length === %d`,
		annotationJS(ann.ID), changed.Version+1, ann.Note, changed.Version+1))
	got, _ := a.Store.Annotation(ctx, ann.ID)
	if got.Version != changed.Version+1 || got.Note != ann.Note || got.Confidence != ann.Confidence || got.UpdatedBy != "Ada Analyst" {
		t.Errorf("after restoring: version %d note %q confidence %q by %s; want version %d as it was at version %d",
			got.Version, got.Note, got.Confidence, got.UpdatedBy, changed.Version+1, ann.Version)
	}
}

func TestBrowserAdminPages(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	b := newBrowser(t)

	// Adding a user shows their one-time password, once.
	b.signIn(t, a, "/users", "admin")
	b.setField(t, `#user-form input[name=name]`, "Nia New")
	b.setField(t, `#user-form select[name=role]`, annotations.RoleViewer)
	b.do(t, chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)))
	b.waitFor(t, "the one-time password", `!document.getElementById('new-password').hidden && document.getElementById('new-password-value').textContent.length >= 12`)
	if got := b.text(t, "#new-password-for"); !strings.Contains(got, "Nia New") {
		t.Errorf("the password is said to be for %q", got)
	}
	u, err := a.Store.UserByName(ctx, "Nia New")
	if err != nil || u.Role != annotations.RoleViewer || !u.MustChangePassword {
		t.Errorf("stored user %+v, %v; want a viewer who must choose a password", u, err)
	}

	// An image in the trash comes back with its annotations.
	if _, err := a.Store.TrashImage(ctx, annotations.Actor{Name: "admin"}, port.ID); err != nil {
		t.Fatal(err)
	}
	b.do(t, chromedp.Navigate(a.url+"/trash"))
	b.waitFor(t, "the trash", fmt.Sprintf(`!!document.querySelector('#trash tr[data-image-id=%q]')`, port.ID))
	b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#trash tr[data-image-id=%q] .trash-restore`, port.ID))))
	b.waitFor(t, "the restore", fmt.Sprintf(`!document.querySelector('#trash tr[data-image-id=%q]')`, port.ID))
	img, err := a.Store.Image(ctx, port.ID)
	if err != nil || img.AnnotationCount != port.AnnotationCount {
		t.Errorf("restored image: %d annotations, %v; want %d", img.AnnotationCount, err, port.AnnotationCount)
	}
}

// Signed out everywhere from a script while the annotator listens: the page says so at
// once and sends her to sign in; what is saved after that does not reach it.
func TestBrowserSignedOutWhileListening(t *testing.T) {
	a := startApp(t)
	port := portImage(t, a)
	a.addUser(t, "Vera Viewer", annotations.RoleViewer)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	vera := newBrowser(t)
	vera.openAnnotator(t, a, port.ID, "Vera Viewer")
	// Every message the page flashes, in order: tiles that fail once the session has
	// ended flash too, over the notice.
	vera.do(t, chromedp.Evaluate[chromedp.Void](`window.flashes = [];
		new MutationObserver(() => flashes.push(document.getElementById('flash').textContent)).observe(document.getElementById('flash'), {childList: true, characterData: true, subtree: true})`))

	a.apiAs(t, "Vera Viewer").do(t, http.MethodDelete, "/api/v1/me/sessions", nil, http.StatusOK, nil)
	var created annotations.Annotation
	a.apiAs(t, "Ada Analyst").do(t, http.MethodPost, "/api/v1/images/"+port.ID+"/annotations", map[string]any{
		"label": "vehicle", "shape": "point", "geometry": map[string]any{"type": "Point", "coordinates": []float64{900.5, 700.5}},
	}, http.StatusCreated, &created)
	vera.waitFor(t, "the notice that she was signed out", `flashes.some((m) => m.startsWith('You were signed out, so live updates stopped')) && document.querySelector('.live-state').textContent === 'stopped'`)
	if evalJS[bool](t, vera, fmt.Sprintf(`!!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, created.ID)) {
		t.Error("an annotation saved after the sign-out reached the page")
	}
	vera.waitFor(t, "the sign-in page", `location.pathname === '/login' && location.search.includes(encodeURIComponent('/images/'))`)
}
