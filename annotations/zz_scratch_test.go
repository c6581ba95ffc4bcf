package annotations

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestScratchImportSpeed(t *testing.T) {
	x := newAnnotated(t)
	big := addImage(t, x.s, "big", 40000, 30000, Provenance{})
	n := 30000
	start, c0 := time.Now(), cpuNow()
	rep, err := x.s.ImportAnnotations(context.Background(), Actor{Name: "kim"}, big.ID, func(emit func(ImportFeature) error) error {
		for i := 0; i < n; i++ {
			x0, y0 := float64(i%1000)*30+1, float64(i/1000)*200+1
			g := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`, x0, y0, x0+10, y0, x0+10, y0+8, x0, y0+8, x0, y0)
			if err := emit(ImportFeature{ID: fmt.Sprint(i), Input: AnnotationInput{Label: ptr("vessel/landing ship"), Shape: ptr(ShapeRectangle), Geometry: json.RawMessage(g), Properties: json.RawMessage(`{"confidence":"probable","note":"x"}`)}}); err != nil {
				return err
			}
		}
		return nil
	}, ImportOptions{})
	t.Logf("%v %d wall %v cpu %v", err, rep.Created, time.Since(start), cpuNow()-c0)
}
