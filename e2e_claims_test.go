package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserClaimEvidence: an analyst writes down a claim of a port scene's release from
// the annotator, links the landing ship on it as supporting evidence with an assessment
// and a confidence, and opens the claim's page, which lists the ship under what supports
// the claim with its thumbnail and shows it zoomed on its image.
func TestBrowserClaimEvidence(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	images, err := a.Store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var port annotations.Image
	var ship annotations.Annotation
	for _, img := range images {
		for _, an := range a.annotationsOf(t, img.ID) {
			if img.Georeferenced && strings.HasSuffix(an.Label.PathString(), "landing ship") {
				port, ship = img, an
			}
		}
	}
	if ship.ID == "" {
		t.Fatal("no landing ship on a placed sample image")
	}

	a.addUser(t, "Claim Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+port.ID, "Claim Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.selectInList(t, ship.ID)
	b.waitFor(t, "the evidence panel", `!document.getElementById('evidence').hidden && !!document.getElementById('evidence-new')`)

	const claim = "landing ships transported troops from this port, 8–13 October"
	b.typeInto(t, "#evidence-new-claim", claim)
	b.do(t, chromedp.Click(chromedp.ID("evidence-new")))
	b.waitFor(t, "the new claim chosen", fmt.Sprintf(`(() => { const s = document.getElementById('evidence-claim'); return s.selectedOptions.length === 1 && s.selectedOptions[0].textContent === %q; })()`, claim))
	b.do(t, chromedp.SetValue("#evidence-stance", "supports"))
	b.setField(t, "#evidence-confidence", "0.8")
	b.typeInto(t, "#evidence-assessment", "a landing ship alongside the quay, ramp down")
	b.do(t, chromedp.Click(chromedp.ID("evidence-link-button")))
	b.waitFor(t, "the link in the panel", fmt.Sprintf(`[...document.querySelectorAll('#evidence-links li[data-stance=supports] a')].some(a => a.textContent === %q)`, claim))

	// What was saved, through the API.
	api := a.apiAs(t, "Claim Analyst")
	var claims []struct {
		ID, Text, State string
		Evidence        []struct {
			AnnotationID string  `json:"annotation_id"`
			Stance       string  `json:"stance"`
			Confidence   float64 `json:"confidence"`
			Assessment   string  `json:"assessment"`
			CreatedBy    string  `json:"created_by"`
		}
	}
	api.do(t, http.MethodGet, "/api/v1/claims?image="+port.ID, nil, http.StatusOK, &claims)
	var id string
	for _, c := range claims {
		if c.Text != claim {
			continue
		}
		id = c.ID
		if c.State != "supported" || len(c.Evidence) != 1 {
			t.Fatalf("the claim saved: %+v, want it supported by one piece of evidence", c)
		}
		if e := c.Evidence[0]; e.AnnotationID != ship.ID || e.Stance != "supports" || e.Confidence != 0.8 ||
			e.Assessment != "a landing ship alongside the quay, ramp down" || e.CreatedBy != "Claim Analyst" {
			t.Errorf("the evidence saved: %+v", e)
		}
	}
	if id == "" {
		t.Fatalf("claims of the release: %+v, want %q among them", claims, claim)
	}

	// The claim's page, from the panel's link.
	b.do(t, chromedp.Click(chromedp.CSS(`#evidence-links li[data-stance=supports] a`)))
	b.waitFor(t, "the claim's page", fmt.Sprintf(`location.pathname === %q && document.getElementById('claim-text').textContent === %q`, "/claims/"+id, claim))
	b.waitFor(t, "the state and the evidence under supports", fmt.Sprintf(`document.getElementById('claim-state').dataset.state === 'supported' &&
		document.querySelector('.evidence-group[data-stance=supports] .evidence-item')?.dataset.annotationId === %q &&
		document.querySelector('.evidence-group[data-stance=supports] .evidence-assessment').textContent === 'a landing ship alongside the quay, ramp down' &&
		!document.querySelector('.evidence-group[data-stance=contradicts]')`, ship.ID))
	b.waitFor(t, "the thumbnail loaded", `(() => { const i = document.querySelector('.evidence-thumb'); return i.complete && i.naturalWidth > 0; })()`)
	b.waitFor(t, "the viewer on the ship", `document.querySelector('.claim-page').dataset.shownEvidence !== undefined && document.getElementById('claim-viewer-status').textContent.startsWith('supports')`)
}
