package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

// TestAnImportTellsTheOtherProcessesWhatItsOwnListenersAreTold: an import through A is
// heard on B as on A: each new annotation as annotation.created while there are at most
// annotations.ImportToldOneByOne, and past that by the stream ending at once (the page
// reconnects and loads them), not by B relaying the annotations one by one first.
func TestAnImportTellsTheOtherProcessesWhatItsOwnListenersAreTold(t *testing.T) {
	a, b := twoProcesses(t)
	hs := httptest.NewServer(b.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img := a.newImage(t, 1)
	stream := openEvents(ctx, t, hs.URL, img.ID, a.token)
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("B's first event %+v (%v), want ready", ev, err)
	}
	kim := a.userToken(t, "kim", annotations.RoleAnalyst)
	post := func(file []byte) {
		t.Helper()
		_, code, body := a.importFile(t, img.ID, query("format", "geojson"), file, "Authorization", "Bearer "+kim)
		if code != http.StatusCreated {
			t.Fatalf("import: %d %s", code, body)
		}
	}

	post(collection(pixelFeature("a", "vessel", inPoint, `{"note":"first"}`), pixelFeature("b", "vessel", inBox, "")))
	heard := heardCreated(t, stream, 2, img.ID, "kim")
	if heard[0].Note != "first" || heard[1].Shape != annotations.ShapePolygon {
		t.Errorf("B heard %+v, want the two imported annotations in order", heard)
	}

	var many []string
	for i := 0; i <= annotations.ImportToldOneByOne; i++ {
		many = append(many, pixelFeature(fmt.Sprint("m", i), "vessel", inPoint, ""))
	}
	post(collection(many...))
	if ev, err := stream.next(); !errors.Is(err, io.EOF) {
		t.Errorf("B after %d new annotations: %+v (%v), want its stream ended at once", len(many), ev, err)
	}
}
