package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

type piece struct {
	text    string
	partial bool
}

func split(t *testing.T, chunks ...string) []piece {
	t.Helper()
	var got []piece
	s := &lineSplitter{emit: func(line []byte, partial bool) { got = append(got, piece{string(line), partial}) }}
	for _, c := range chunks {
		s.Write([]byte(c))
	}
	s.Close()
	return got
}

func TestLinesAreSplitAtLineBreaksWhateverTheChunks(t *testing.T) {
	got := split(t, "one\ntw", "o\r\n", "", "three\n\nlast without break")
	want := []piece{{"one", false}, {"two", false}, {"three", false}, {"", false}, {"last without break", false}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestALineOfOneMegabyteBecomesPartialPiecesWithNothingDropped(t *testing.T) {
	line := strings.Repeat("0123456789abcdef", 65536) // 1 MiB
	// Written in odd-sized chunks, as a pipe delivers them.
	var chunks []string
	for rest := line + "\nnext\n"; rest != ""; {
		n := min(len(rest), 7919)
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	got := split(t, chunks...)
	if len(got) != 17 {
		t.Fatalf("got %d pieces, want 16 pieces of the long line and the next line", len(got))
	}
	var joined strings.Builder
	for i, p := range got[:16] {
		if len(p.text) > maxPiece {
			t.Errorf("piece %d has %d bytes, more than %d", i, len(p.text), maxPiece)
		}
		if p.partial != (i < 15) {
			t.Errorf("piece %d: partial = %v; every piece but the line's last is partial", i, p.partial)
		}
		joined.WriteString(p.text)
	}
	if joined.String() != line {
		t.Error("the pieces joined are not the line")
	}
	if got[16] != (piece{"next", false}) {
		t.Errorf("the line after the long one: %+v", got[16])
	}
}

func TestALineOfExactlyTheLimitStaysWhole(t *testing.T) {
	got := split(t, strings.Repeat("x", maxPiece)+"\n")
	if len(got) != 1 || got[0].partial || len(got[0].text) != maxPiece {
		t.Fatalf("got %d pieces", len(got))
	}
}

func TestPiecesAreCutBetweenCharactersNotInsideOne(t *testing.T) {
	// "é" is 2 bytes, "€" 3: place one across the 64 KiB boundary.
	line := strings.Repeat("a", maxPiece-1) + "€" + strings.Repeat("é", 1000)
	got := split(t, line)
	var joined strings.Builder
	for i, p := range got {
		if !utf8.ValidString(p.text) {
			t.Errorf("piece %d is not valid UTF-8: a character was cut", i)
		}
		joined.WriteString(p.text)
	}
	if joined.String() != line {
		t.Error("the pieces joined are not the line")
	}
}

func TestRunsOfInvalidBytesAreCutAtTheLimit(t *testing.T) {
	line := bytes.Repeat([]byte{0x80}, 2*maxPiece+10)
	got := split(t, string(line))
	if len(got) != 3 || len(got[0].text) != maxPiece || len(got[2].text) != 10 {
		t.Fatalf("got %d pieces", len(got))
	}
}
