// Package annotations is satmark's domain: the released images and where they came from,
// the label taxonomy, the annotations drawn on images in pixel space, and the append-only
// history of every change, kept in one SQLite file.
//
// Pixel space is continuous: (0,0) is the top-left corner of the top-left pixel, x grows to
// the right, y grows downwards, and (width, height) is the bottom-right corner.
package annotations

import (
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
)

// ErrNotFound means the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict means the change clashes with what is stored (a duplicate name, a label
// still in use).
var ErrConflict = errors.New("conflict")

// ErrVersionRequired means an update or a delete did not say which version it was based on.
var ErrVersionRequired = errors.New("version required")

// ValidationError says which field of the input is wrong and why. Malformed marks input
// that does not parse at all (a date that is not a date) as opposed to well-formed input
// that breaks a rule (a ring that is not closed).
type ValidationError struct {
	Field     string
	Message   string
	Malformed bool
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func malformed(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...), Malformed: true}
}

// StaleVersionError means an update was based on a version that is no longer current.
type StaleVersionError struct {
	Kind    string // what was changed: "annotation" when empty, "site"
	ID      string
	Given   int
	Current int
	By      string // who saved the current version, when the refusal says (a bulk change's)
}

func (e *StaleVersionError) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "annotation"
	}
	return fmt.Sprintf("%s %s is at version %d, not %d: it was changed since you loaded it", kind, e.ID, e.Current, e.Given)
}

// IDs are a kind prefix and twelve random base-32 characters, e.g. "img_k3v9q2m8x1ab".
// Annotations use UUIDs instead (see newUUID) because exports carry them as feature ids.
const idAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

var (
	shortIDPattern = regexp.MustCompile(`^[a-z]{3}_[a-z2-9]{12}$`)
	uuidPattern    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func newID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "_" + string(b)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ValidID reports whether s has the shape of an id this package hands out. Anything else
// is unknown by construction, so callers can answer 404 without touching the store.
func ValidID(s string) bool {
	return shortIDPattern.MatchString(s) || uuidPattern.MatchString(s)
}
