package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// logWriter writes the program's lines, and the launcher's own, to the launcher's stdout (the
// transform container's log), one line each, in the runtime's format: JSON lines in the cluster
// (processor/src/log.ts), or text.
type logWriter struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// programLine is one line of the program, in the shape of the runtime's JSON log lines.
type programLine struct {
	Time    string `json:"time"`
	Level   string `json:"level"`
	RunID   string `json:"runId,omitempty"`
	Stream  string `json:"stream"`
	Message string `json:"message"`
	Partial bool   `json:"partial,omitempty"`
}

// launcherLine is a line of the launcher itself.
type launcherLine struct {
	Time      string `json:"time"`
	Level     string `json:"level"`
	Component string `json:"component"`
	Message   string `json:"message"`
}

func (l *logWriter) timestamp() string {
	return l.now().UTC().Format("2006-01-02T15:04:05.000Z")
}

// program writes one line (or piece) of the program's stdout or stderr.
func (l *logWriter) program(format, runID, stream string, line []byte, partial bool) {
	message := strings.ToValidUTF8(string(line), string(utf8.RuneError))
	level := "info"
	if stream == "stderr" {
		level = "warn"
	}
	if format == "text" {
		suffix := ""
		if partial {
			suffix = " [partial]"
		}
		l.write(fmt.Sprintf("[%s] %s: %s%s\n", escapeControl(runID), stream, escapeControl(message), suffix))
		return
	}
	l.writeJSON(programLine{Time: l.timestamp(), Level: level, RunID: runID, Stream: stream, Message: message, Partial: partial})
}

// launcher writes a line of the launcher's own (JSON, the cluster's format).
func (l *logWriter) launcher(level, format string, args ...any) {
	l.writeJSON(launcherLine{Time: l.timestamp(), Level: level, Component: "mlops-launcher", Message: fmt.Sprintf(format, args...)})
}

func (l *logWriter) writeJSON(value any) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	// Keep <, > and & as they are; control characters are still escaped (\n, \u001b, ...).
	enc.SetEscapeHTML(false)
	if err := enc.Encode(value); err != nil {
		return
	}
	l.write(b.String())
}

func (l *logWriter) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.out, s)
}

// escapeControl writes C0 and C1 control characters, DEL and the Unicode line and paragraph
// separators as \xNN (\u2028, \u2029), so no value starts a log line of its own.
func escapeControl(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			fmt.Fprintf(&b, "\\x%02x", r)
		case r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stderrTail keeps the last lines of the program's stderr for the result (the runtime's error
// report carries them).
type stderrTail struct {
	lines []string
}

const (
	tailLines   = 20
	tailLineMax = 1024
)

func (t *stderrTail) add(line []byte) {
	text := truncateUTF8(strings.ToValidUTF8(string(line), string(utf8.RuneError)), tailLineMax)
	t.lines = append(t.lines, text)
	if len(t.lines) > tailLines {
		t.lines = t.lines[len(t.lines)-tailLines:]
	}
}
