package annotations

import "time"

// CaptureWindow is the claimed capture window as times in UTC: a date covers the whole
// day, and a window given by one end only is that day or that instant. ok is false when
// the image claims no capture time at all.
func (img Image) CaptureWindow() (from, to time.Time, ok bool) {
	f, t := img.CapturedFrom, img.CapturedTo
	if f == "" {
		f = t
	}
	if t == "" {
		t = f
	}
	if f == "" {
		return time.Time{}, time.Time{}, false
	}
	_, from, errF := parseWhen(f)
	_, to, errT := parseWhen(t)
	if errF != nil || errT != nil {
		return time.Time{}, time.Time{}, false
	}
	if len(t) == len("2006-01-02") {
		to = to.Add(24 * time.Hour)
	}
	return from, to, true
}
