package cli

import (
	"bytes"
	"strings"
	"testing"
)

// Not on a terminal, progress is plain lines: at most one per interval,
// always one when a stage ends, with an estimate once it can make one.
func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	if p.terminal {
		t.Fatal("a buffer is not a terminal")
	}
	p.report("table pages", 10, 100)
	p.report("table pages", 20, 100) // within the interval: no line
	p.report("table pages", 100, 100)
	p.done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || lines[0] != "table pages: 10/100" || lines[1] != "table pages: 100/100" {
		t.Fatalf("lines %q", lines)
	}
	if strings.Contains(out.String(), "\r") || strings.Contains(out.String(), "\033") {
		t.Error("control characters in plain output")
	}
}
