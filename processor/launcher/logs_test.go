package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func fixedLog(out *bytes.Buffer) *logWriter {
	return &logWriter{out: out, now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC) }}
}

func TestJSONLinesCarryTheRunStreamAndLevelInTheRuntimesShape(t *testing.T) {
	var out bytes.Buffer
	log := fixedLog(&out)
	log.program("json", "run-1", "stdout", []byte("rows: 10 <ok> & done"), false)
	log.program("json", "run-1", "stderr", []byte("careful"), true)
	want := `{"time":"2026-01-02T03:04:05.006Z","level":"info","runId":"run-1","stream":"stdout","message":"rows: 10 <ok> & done"}
{"time":"2026-01-02T03:04:05.006Z","level":"warn","runId":"run-1","stream":"stderr","message":"careful","partial":true}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestControlCharactersAndInvalidUTF8StayInsideOneJSONLine(t *testing.T) {
	var out bytes.Buffer
	raw := []byte("a\rb\x1b[31mred\x00\x7f \xff\xfe end\u2028")
	fixedLog(&out).program("json", "r", "stdout", raw, false)
	text := out.String()
	if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
		t.Fatalf("not one line: %q", text)
	}
	for _, c := range []string{"\r", "\x1b", "\x00", "\u2028"} {
		if strings.Contains(text, c) {
			t.Errorf("raw %q in the line %q", c, text)
		}
	}
	var line programLine
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	want := "a\rb\x1b[31mred\x00\x7f \uFFFD end\u2028"
	if line.Message != want {
		t.Errorf("message %q, want %q (invalid bytes replaced, the rest kept)", line.Message, want)
	}
}

func TestTextLinesEscapeControlCharactersAsHex(t *testing.T) {
	var out bytes.Buffer
	fixedLog(&out).program("text", "run-7", "stderr", []byte("tab\there\nnew\x1b \xff"), false)
	want := "[run-7] stderr: tab\\x09here\\x0anew\\x1b \uFFFD\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestTheStderrTailKeepsTheLast20LinesEachCutAt1KiB(t *testing.T) {
	tail := &stderrTail{}
	for i := 1; i <= 30; i++ {
		tail.add([]byte(fmt.Sprintf("line %d", i)))
	}
	tail.add(bytes.Repeat([]byte("é"), 1000)) // 2000 bytes
	if len(tail.lines) != 20 || tail.lines[0] != "line 12" || tail.lines[18] != "line 30" {
		t.Fatalf("tail %q", tail.lines)
	}
	last := tail.lines[19]
	if len(last) != 1024 || !utf8.ValidString(last) {
		t.Errorf("the long line kept %d bytes (valid UTF-8: %v)", len(last), utf8.ValidString(last))
	}
}
