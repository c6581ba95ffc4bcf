package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// seedShipSuggestions stores, as a search from the landing ship src by finder would,
// pending suggestions on the port's other landing ships (whose boxes it takes out of the
// store), best first; it returns them.
func (a *app) seedShipSuggestions(t *testing.T, imageID, finder string) (annotations.Annotation, []annotations.Suggestion) {
	t.Helper()
	src := a.landingShipBox(t, imageID, func(annotations.Annotation) bool { return true })
	var found []annotations.FoundPlace
	for _, s := range a.warships(t, imageID, func(an annotations.Annotation) bool { return an.ID == src.ID }) {
		if s.Label.ID == src.Label.ID && s.ID != src.ID {
			found = append(found, annotations.FoundPlace{Shape: s.Shape, Geometry: s.Geometry, Score: 0.9 - float64(len(found))/50})
		}
	}
	if len(found) < 2 {
		t.Fatalf("%d other landing ships on the port: the test needs two", len(found))
	}
	sgs, err := a.Store.AddSuggestions(context.Background(), annotations.Actor{Name: finder}, src, found)
	if err != nil {
		t.Fatal(err)
	}
	return src, sgs
}

// suggestionStatus is what the API says of a suggestion now.
func suggestionStatus(t *testing.T, c apiClient, imageID, id string) annotations.Suggestion {
	t.Helper()
	var all []annotations.Suggestion
	c.do(t, "GET", "/api/v1/images/"+imageID+"/suggestions", nil, http.StatusOK, &all)
	for _, sg := range all {
		if sg.ID == id {
			return sg
		}
	}
	t.Fatalf("no suggestion %s on image %s", id, imageID)
	return annotations.Suggestion{}
}

// TestBrowserSuggestionUndo: A accepts a suggestion, Ctrl+Z takes it back (the API has
// no such annotation any more, and the suggestion is pending, shown again in the strip),
// Ctrl+Shift+Z accepts it again; X rejects one, and Ctrl+Z makes it pending again.
func TestBrowserSuggestionUndo(t *testing.T) {
	a := startApp(t)
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	_, sgs := a.seedShipSuggestions(t, port.ID, "tester")
	a.addUser(t, "Undo Analyst", annotations.RoleAnalyst)
	c := a.apiAs(t, "Undo Analyst")
	b := newBrowser(t)
	b.signIn(t, a, "/images/"+port.ID, "Undo Analyst")
	b.waitFor(t, "the annotator and its suggestions", fmt.Sprintf(`document.getElementById('annotator').dataset.ready === 'true' && satmark.suggestions().left === %d`, len(sgs)))
	rows := evalJS[int](t, b, `document.querySelectorAll('#annotation-list li').length`)

	b.pressKey(t, "n")
	b.waitFor(t, "the first suggestion", fmt.Sprintf(`satmark.suggestions().current === %q`, sgs[0].ID))
	b.pressKey(t, "a")
	b.waitFor(t, "the acceptance", fmt.Sprintf(`satmark.suggestions().left === %d && document.querySelectorAll('#annotation-list li').length === %d && !document.getElementById('undo').disabled`, len(sgs)-1, rows+1))
	made := suggestionStatus(t, c, port.ID, sgs[0].ID)
	if made.Status != annotations.SuggestionAccepted || made.AnnotationID == "" {
		t.Fatalf("after A the suggestion is %+v, want accepted", made)
	}

	b.pressKey(t, "z", chromedp.ModifierCtrl)
	b.waitFor(t, "the acceptance undone", fmt.Sprintf(`satmark.suggestions().left === %d && satmark.suggestions().current === %q && document.querySelectorAll('#annotation-list li').length === %d`, len(sgs), sgs[0].ID, rows))
	if sg := suggestionStatus(t, c, port.ID, sgs[0].ID); sg.Status != annotations.SuggestionPending || sg.AnnotationID != "" || sg.DecidedBy != "" {
		t.Errorf("after Ctrl+Z the suggestion is %+v, want pending", sg)
	}
	c.do(t, "GET", "/api/v1/annotations/"+made.AnnotationID, nil, http.StatusNotFound, nil)

	b.pressKey(t, "z", chromedp.ModifierCtrl, chromedp.ModifierShift)
	b.waitFor(t, "the acceptance redone", fmt.Sprintf(`satmark.suggestions().left === %d && document.querySelectorAll('#annotation-list li').length === %d`, len(sgs)-1, rows+1))
	again := suggestionStatus(t, c, port.ID, sgs[0].ID)
	if again.Status != annotations.SuggestionAccepted || again.DecidedBy != "Undo Analyst" || again.AnnotationID == "" || again.AnnotationID == made.AnnotationID {
		t.Errorf("after Ctrl+Shift+Z the suggestion is %+v, want accepted again, as a new annotation", again)
	}
	var ann annotations.Annotation
	c.do(t, "GET", "/api/v1/annotations/"+again.AnnotationID, nil, http.StatusOK, &ann)
	b.waitFor(t, "the new annotation in the list", fmt.Sprintf(`!!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, again.AnnotationID))
	if ann.CreatedBy != "Undo Analyst" {
		t.Errorf("the annotation accepted again was made by %q", ann.CreatedBy)
	}

	// X, then Ctrl+Z: pending again.
	b.waitFor(t, "the next suggestion shown", fmt.Sprintf(`satmark.suggestions().current === %q`, sgs[1].ID))
	b.pressKey(t, "x")
	b.waitFor(t, "the rejection", fmt.Sprintf(`satmark.suggestions().left === %d`, len(sgs)-2))
	if sg := suggestionStatus(t, c, port.ID, sgs[1].ID); sg.Status != annotations.SuggestionRejected {
		t.Fatalf("after X the suggestion is %+v, want rejected", sg)
	}
	b.pressKey(t, "z", chromedp.ModifierCtrl)
	b.waitFor(t, "the rejection undone", fmt.Sprintf(`satmark.suggestions().left === %d && satmark.suggestions().current === %q`, len(sgs)-1, sgs[1].ID))
	if sg := suggestionStatus(t, c, port.ID, sgs[1].ID); sg.Status != annotations.SuggestionPending {
		t.Errorf("after Ctrl+Z the rejected suggestion is %+v, want pending", sg)
	}
}

// TestBrowserSuggestionsLive: two analysts have the port open. A search by one (through
// the API) brings its suggestions to both pages without a reload; the other's A and X
// take them out of the first page's strip, the accepted one joining its list.
func TestBrowserSuggestionsLive(t *testing.T) {
	a := startApp(t)
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	src := a.landingShipBox(t, port.ID, func(annotations.Annotation) bool { return true })
	a.warships(t, port.ID, func(an annotations.Annotation) bool { return an.ID == src.ID })
	a.addUser(t, "Live One", annotations.RoleAnalyst)
	a.addUser(t, "Live Two", annotations.RoleAnalyst)
	ready := `document.getElementById('annotator').dataset.ready === 'true' && document.getElementById('annotator').dataset.live === 'true'`
	one, two := newBrowser(t), newBrowser(t)
	one.signIn(t, a, "/images/"+port.ID, "Live One")
	two.signIn(t, a, "/images/"+port.ID, "Live Two")
	one.waitFor(t, "the first page", ready)
	two.waitFor(t, "the second page", ready)
	rows := evalJS[int](t, one, `document.querySelectorAll('#annotation-list li').length`)

	var found struct {
		Suggestions []annotations.Suggestion `json:"suggestions"`
	}
	a.apiAs(t, "Live One").do(t, "POST", "/api/v1/annotations/"+src.ID+"/similar", nil, http.StatusOK, &found)
	n := len(found.Suggestions)
	if n < 2 {
		t.Fatalf("the search found %d: the test needs two", n)
	}
	for name, b := range map[string]*browserSession{"one": one, "two": two} {
		b.waitFor(t, "the search's suggestions on page "+name, fmt.Sprintf(`satmark.suggestions().left === %d && !document.getElementById('suggestion-strip').hidden`, n))
	}

	two.pressKey(t, "n")
	two.waitFor(t, "the best shown", fmt.Sprintf(`satmark.suggestions().current === %q`, found.Suggestions[0].ID))
	two.pressKey(t, "a")
	one.waitFor(t, "the acceptance on the other page", fmt.Sprintf(`satmark.suggestions().left === %d && !satmark.suggestions().ids.includes(%q) && document.querySelectorAll('#annotation-list li').length === %d`,
		n-1, found.Suggestions[0].ID, rows+1))
	two.waitFor(t, "the next shown", fmt.Sprintf(`satmark.suggestions().current === %q`, found.Suggestions[1].ID))
	two.pressKey(t, "x")
	one.waitFor(t, "the rejection on the other page", fmt.Sprintf(`satmark.suggestions().left === %d && !satmark.suggestions().ids.includes(%q)`, n-2, found.Suggestions[1].ID))
	// Undone on the second page: back on the first.
	two.waitFor(t, "the rejection answered", fmt.Sprintf(`satmark.suggestions().left === %d`, n-2))
	two.pressKey(t, "z", chromedp.ModifierCtrl)
	one.waitFor(t, "the rejection undone on the other page", fmt.Sprintf(`satmark.suggestions().left === %d && satmark.suggestions().ids.includes(%q)`, n-1, found.Suggestions[1].ID))
}
