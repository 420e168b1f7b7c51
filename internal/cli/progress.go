package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows long work: on a terminal a bar redrawn in place with
// counts and an estimate of the time left; otherwise a plain line every
// few seconds (and one when a stage ends), which logs read well.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	stage    string
	start    time.Time // of the stage
	last     time.Time // of the last line written
	every    time.Duration
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal, p.every = true, 200*time.Millisecond
	}
	return p
}

func (p *progress) report(stage string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if stage != p.stage {
		p.stage, p.start = stage, now
	}
	finished := total > 0 && done >= total
	if !finished && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	line := stage + ": " + fmt.Sprint(done)
	if total > 0 {
		line += fmt.Sprintf("/%d", total)
		if el := now.Sub(p.start); done > 0 && !finished && el > time.Second {
			left := time.Duration(float64(el) * float64(total-done) / float64(done))
			line += fmt.Sprintf(", about %s left", left.Round(time.Second))
		}
	}
	if !p.terminal {
		fmt.Fprintln(p.w, line)
		return
	}
	bar := ""
	if total > 0 {
		const width = 30
		n := int(min(done, total) * width / total)
		bar = "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] "
	}
	fmt.Fprintf(p.w, "\r\033[K%s%s", bar, line)
	p.drawn = true
	if finished {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// done ends a bar left open.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
