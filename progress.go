package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
)

// progress reports a command's way through a list: a bar redrawn in place on a terminal,
// plain lines otherwise (a log, a pipe, CI), so that scripts read what people see.
type progress struct {
	w     io.Writer
	tty   bool
	what  string
	total int
	drawn time.Time
	lines int // plain lines written: one per tenth of the way, at most
}

func newProgress(w io.Writer, what string, total int) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && isatty.IsTerminal(f.Fd()), what: what, total: total}
}

// step says that done of the total are finished, the last being item.
func (p *progress) step(done int, item string) {
	if p.total == 0 {
		return
	}
	if p.tty {
		if done < p.total && time.Since(p.drawn) < 100*time.Millisecond {
			return
		}
		p.drawn = time.Now()
		const width = 30
		n := width * done / p.total
		if len(item) > 40 {
			item = item[:37] + "..."
		}
		fmt.Fprintf(p.w, "\r\033[K%s [%s%s] %d/%d %s", p.what, strings.Repeat("#", n), strings.Repeat(".", width-n), done, p.total, item)
		return
	}
	// A line each time another tenth is done, and for the last.
	if done == p.total || done*10/p.total > p.lines {
		p.lines = done * 10 / p.total
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.what, done, p.total, 100*done/p.total)
	}
}

// done ends the bar's line on a terminal.
func (p *progress) done() {
	if p.tty && p.total > 0 && !p.drawn.IsZero() {
		fmt.Fprintln(p.w)
	}
}
