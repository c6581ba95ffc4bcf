// Package orbit predicts where an earth satellite is from its two-line element set (TLE):
// TLE parsing with checksum verification, SGP4/SDP4 propagation after Vallado, Crawford,
// Hujsak & Kelso, "Revisiting Spacetrack Report #3" (AIAA 2006-6753) with WGS-72
// constants, the TEME → earth-fixed → geodetic chain, and the passes of a satellite over a
// place on the ground. It imports no other satmark package.
package orbit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// TLE is one parsed two-line element set, with the name line that may precede it.
// Angles are in degrees as the lines give them; MeanMotion is in revolutions per day.
type TLE struct {
	Name           string
	Line1, Line2   string
	NoradID        int // the catalogue number; Alpha-5 ("A0001") is 100001
	Classification byte
	IntlDesignator string // "58002B"; may be empty in old sets
	Epoch          time.Time
	BStar          float64 // drag term, 1/earth radii
	Inclination    float64
	RAAN           float64 // right ascension of the ascending node
	Eccentricity   float64
	ArgPerigee     float64
	MeanAnomaly    float64
	MeanMotion     float64
	ElementNumber  int
	RevNumber      int

	epochYear int
	epochDay  float64 // day of the year, 1.0 = 1 January 00:00 UTC
}

// LineError is why a TLE line was refused: Line is 1 or 2 within the set (0 for the set
// as a whole), Columns the 1-based columns of the field ("" when it is the whole line).
type LineError struct {
	Line    int
	Columns string
	Field   string
	Reason  string
}

func (e *LineError) Error() string {
	where := "line " + strconv.Itoa(e.Line)
	if e.Line == 0 {
		where = "element set"
	}
	if e.Columns != "" {
		where += ", columns " + e.Columns
	}
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", where, e.Field, e.Reason)
	}
	return where + ": " + e.Reason
}

// lineLength is the length of a TLE line: 68 characters and the checksum digit.
const lineLength = 69

// ParseTLE parses one element set from its two lines (trailing white space and a
// carriage return are ignored) and the optional name. It checks each line's length and
// checksum, the fixed blanks between fields, every field's syntax and range, and that both
// lines name the same satellite; the error is a *LineError saying which line, columns and
// field, and why.
func ParseTLE(name, line1, line2 string) (TLE, error) {
	return parseTLE(name, line1, line2, true)
}

func parseTLE(name, line1, line2 string, verifyChecksum bool) (TLE, error) {
	l1 := strings.TrimRight(line1, " \t\r\n")
	l2 := strings.TrimRight(line2, " \t\r\n")
	t := TLE{Name: cleanName(name), Line1: l1, Line2: l2}
	for i, l := range []string{l1, l2} {
		n := i + 1
		if err := checkLine(n, l, verifyChecksum); err != nil {
			return TLE{}, err
		}
	}
	f1 := fields{line: 1, text: l1}
	f2 := fields{line: 2, text: l2}

	t.NoradID = f1.catalog()
	t.Classification = l1[7]
	t.IntlDesignator = strings.TrimSpace(l1[9:17])
	t.epochYear = f1.integer(19, 20, "epoch year", 0, 99)
	t.epochDay = f1.decimal(21, 32, "epoch day", 1, 367)
	f1.decimal(34, 43, "first derivative of mean motion", -1, 1)
	f1.exponential(45, 52, "second derivative of mean motion")
	t.BStar = f1.exponential(54, 61, "drag term (B*)")
	t.ElementNumber = f1.optionalInteger(65, 68, "element set number")

	if id2 := f2.catalog(); f1.err == nil && f2.err == nil && id2 != t.NoradID {
		return TLE{}, &LineError{Line: 2, Columns: "3–7", Field: "catalogue number",
			Reason: fmt.Sprintf("%d differs from line 1's %d", id2, t.NoradID)}
	}
	t.Inclination = f2.decimal(9, 16, "inclination", 0, 180)
	t.RAAN = f2.decimal(18, 25, "right ascension of the node", 0, 360)
	t.Eccentricity = f2.impliedDecimal(27, 33, "eccentricity")
	t.ArgPerigee = f2.decimal(35, 42, "argument of perigee", 0, 360)
	t.MeanAnomaly = f2.decimal(44, 51, "mean anomaly", 0, 360)
	t.MeanMotion = f2.decimal(53, 63, "mean motion", 0, 100)
	t.RevNumber = f2.optionalInteger(64, 68, "revolution number")
	if f1.err != nil {
		return TLE{}, f1.err
	}
	if f2.err != nil {
		return TLE{}, f2.err
	}
	if t.MeanMotion <= 0 {
		return TLE{}, &LineError{Line: 2, Columns: "53–63", Field: "mean motion", Reason: "must be more than 0 revolutions a day"}
	}
	year := 1900 + t.epochYear
	if t.epochYear < 57 { // the two-digit years run 1957–2056
		year = 2000 + t.epochYear
	}
	t.epochYear = year
	days := 365.0
	if time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() == 366 {
		days = 366
	}
	if t.epochDay >= days+1 {
		return TLE{}, &LineError{Line: 1, Columns: "21–32", Field: "epoch day",
			Reason: fmt.Sprintf("%v is past the end of %d", t.epochDay, year)}
	}
	ns := math.Round((t.epochDay - 1) * 86400e9)
	t.Epoch = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ns))
	return t, nil
}

// cleanName is a name line without the "0 " that some catalogues put before it.
func cleanName(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0 ") {
		s = strings.TrimSpace(s[2:])
	}
	return s
}

// checkLine checks what the fields rely on: the length, the line number, the checksum,
// printable ASCII and the blanks that separate the fields.
func checkLine(n int, l string, verifyChecksum bool) error {
	if len(l) != lineLength {
		return &LineError{Line: n, Reason: fmt.Sprintf("is %d characters long; a TLE line has %d", len(l), lineLength)}
	}
	for i := 0; i < len(l); i++ {
		if l[i] < ' ' || l[i] > '~' {
			return &LineError{Line: n, Columns: strconv.Itoa(i + 1), Reason: fmt.Sprintf("has a character that is not printable ASCII (%q)", l[i])}
		}
	}
	if l[0] != byte('0'+n) || l[1] != ' ' {
		return &LineError{Line: n, Columns: "1–2", Reason: fmt.Sprintf("must start with %q", fmt.Sprintf("%d ", n))}
	}
	blanks := []int{9, 18, 33, 44, 53, 62, 64}
	if n == 2 {
		blanks = []int{8, 17, 26, 34, 43, 52}
	}
	for _, c := range blanks {
		if l[c-1] != ' ' {
			return &LineError{Line: n, Columns: strconv.Itoa(c), Reason: fmt.Sprintf("column %d must be blank between fields, not %q", c, l[c-1])}
		}
	}
	if !verifyChecksum {
		return nil
	}
	want := l[68]
	if want < '0' || want > '9' {
		return &LineError{Line: n, Columns: "69", Field: "checksum", Reason: fmt.Sprintf("%q is not a digit", want)}
	}
	if got := Checksum(l); got != int(want-'0') {
		return &LineError{Line: n, Columns: "69", Field: "checksum", Reason: fmt.Sprintf("the line says %c but its characters add up to %d", want, got)}
	}
	return nil
}

// Checksum is the TLE checksum of a line's first 68 characters: the sum of its digits,
// with 1 for each minus sign, modulo 10.
func Checksum(line string) int {
	sum := 0
	for i := 0; i < len(line) && i < lineLength-1; i++ {
		switch c := line[i]; {
		case c >= '0' && c <= '9':
			sum += int(c - '0')
		case c == '-':
			sum++
		}
	}
	return sum % 10
}

// fields reads the fields of one line by their 1-based columns, keeping the first error.
type fields struct {
	line int
	text string
	err  error
}

func (f *fields) fail(from, to int, field, format string, args ...any) {
	if f.err == nil {
		f.err = &LineError{Line: f.line, Columns: fmt.Sprintf("%d–%d", from, to), Field: field, Reason: fmt.Sprintf(format, args...)}
	}
}

func (f *fields) raw(from, to int) string { return f.text[from-1 : to] }

// catalog reads the catalogue number in columns 3–7: five digits, or Alpha-5, whose
// leading letter (I and O left out) stands for 10–33 ten-thousands.
func (f *fields) catalog() int {
	s := strings.TrimSpace(f.raw(3, 7))
	if s == "" {
		f.fail(3, 7, "catalogue number", "is blank")
		return 0
	}
	lead := 0
	if c := s[0]; c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' && len(s) == 5 {
		lead = int(c-'A') + 10
		if c > 'I' {
			lead--
		}
		if c > 'O' {
			lead--
		}
		s = s[1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		f.fail(3, 7, "catalogue number", "%q is not a number", f.raw(3, 7))
		return 0
	}
	return lead*10000 + n
}

func (f *fields) decimal(from, to int, field string, lo, hi float64) float64 {
	s := strings.TrimSpace(f.raw(from, to))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "eEnNxXpP_") {
		f.fail(from, to, field, "%q is not a number", f.raw(from, to))
		return 0
	}
	if v < lo || v > hi {
		f.fail(from, to, field, "%v is outside %v–%v", v, lo, hi)
		return 0
	}
	return v
}

func (f *fields) integer(from, to int, field string, lo, hi int) int {
	s := f.raw(from, to)
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || strings.TrimSpace(s) == "" || strings.ContainsAny(s, "+-") {
		f.fail(from, to, field, "%q is not a whole number", s)
		return 0
	}
	if v < lo || v > hi {
		f.fail(from, to, field, "%d is outside %d–%d", v, lo, hi)
		return 0
	}
	return v
}

// optionalInteger reads a count that old element sets leave blank.
func (f *fields) optionalInteger(from, to int, field string) int {
	if strings.TrimSpace(f.raw(from, to)) == "" {
		return 0
	}
	return f.integer(from, to, field, 0, 99999)
}

// impliedDecimal reads digits with an implied leading decimal point ("1859667" = 0.1859667).
func (f *fields) impliedDecimal(from, to int, field string) float64 {
	s := strings.ReplaceAll(f.raw(from, to), " ", "0")
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			f.fail(from, to, field, "%q is not digits with an implied decimal point", f.raw(from, to))
			return 0
		}
	}
	v, _ := strconv.ParseFloat("0."+s, 64)
	return v
}

// exponential reads the "±MMMMM±E" form (" 28098-4" = 0.28098e-4).
func (f *fields) exponential(from, to int, field string) float64 {
	s := f.raw(from, to)
	sign, mant, esign, exp := s[0], s[1:6], s[6], s[7]
	ok := (sign == ' ' || sign == '-' || sign == '+') && (esign == '-' || esign == '+' || esign == ' ') && exp >= '0' && exp <= '9'
	for i := 0; ok && i < len(mant); i++ {
		ok = mant[i] >= '0' && mant[i] <= '9' || mant[i] == ' '
	}
	if !ok {
		f.fail(from, to, field, "%q is not of the form ±MMMMM±E", s)
		return 0
	}
	m, _ := strconv.ParseFloat("0."+strings.ReplaceAll(mant, " ", "0"), 64)
	e := float64(exp - '0')
	if esign == '-' {
		e = -e
	}
	if sign == '-' {
		m = -m
	}
	return m * math.Pow(10, e)
}

// maxNameLength bounds a name line (catalogues use 24 characters).
const maxNameLength = 80

// SetError is why one element set in a file was refused: FileLine is the 1-based line of
// the file the problem is on.
type SetError struct {
	FileLine int
	Err      error
}

func (e SetError) Error() string { return fmt.Sprintf("line %d: %v", e.FileLine, e.Err) }

// ParseFile reads a file of element sets: each two lines ("1 …", "2 …"), optionally after
// a name line (which may start "0 "); blank lines are skipped. It returns every set it
// could read, in order, and a SetError for each one it could not, naming the file's line;
// FileLines gives, for each returned set, the file line it starts on.
func ParseFile(text string) (sets []TLE, fileLines []int, errs []SetError) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	isLine := func(i, n int) bool {
		return i < len(lines) && strings.HasPrefix(lines[i], strconv.Itoa(n)+" ")
	}
	for i := 0; i < len(lines); {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		start, name := i, ""
		if !isLine(i, 1) {
			if isLine(i, 2) {
				errs = append(errs, SetError{FileLine: i + 1, Err: &LineError{Line: 2, Reason: "comes without a line 1 before it"}})
				i++
				continue
			}
			name = lines[i]
			if len(cleanName(name)) > maxNameLength {
				errs = append(errs, SetError{FileLine: i + 1, Err: &LineError{Line: 0, Reason: fmt.Sprintf("a name line has at most %d characters; this is neither a name nor a TLE line", maxNameLength)}})
				i++
				continue
			}
			i++
		}
		if !isLine(i, 1) {
			errs = append(errs, SetError{FileLine: i + 1, Err: &LineError{Line: 1, Reason: fmt.Sprintf("expected line 1 of the element set named %q", cleanName(name))}})
			i = skipToNextSet(lines, i)
			continue
		}
		if !isLine(i+1, 2) {
			errs = append(errs, SetError{FileLine: i + 2, Err: &LineError{Line: 2, Reason: "expected line 2 after line 1"}})
			i = skipToNextSet(lines, i+1)
			continue
		}
		t, err := ParseTLE(name, lines[i], lines[i+1])
		if err != nil {
			at := i + 1
			if le, ok := err.(*LineError); ok && le.Line == 2 {
				at = i + 2
			}
			errs = append(errs, SetError{FileLine: at, Err: err})
		} else {
			sets = append(sets, t)
			fileLines = append(fileLines, start+1)
		}
		i += 2
	}
	return sets, fileLines, errs
}

// skipToNextSet moves past a broken set to the next line that is not a line 2.
func skipToNextSet(lines []string, i int) int {
	for i < len(lines) && strings.HasPrefix(lines[i], "2 ") {
		i++
	}
	return i
}
