package main

import (
	"bytes"
	"unicode/utf8"
)

// maxPiece is the longest log line the launcher emits; a longer line of the program is split
// into pieces of at most this many bytes, each but the last marked partial, none dropped.
const maxPiece = 64 * 1024

// lineSplitter turns a byte stream into lines (without their "\n" or "\r\n"), calling emit for
// each line, or for each piece of a line longer than maxPiece (partial = more of the same line
// follows). Pieces are cut at UTF-8 character boundaries, so no character is broken in two.
type lineSplitter struct {
	emit    func(line []byte, partial bool)
	pending []byte
}

func (s *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.pending = append(s.pending, p...)
			s.emitFullPieces()
			break
		}
		s.pending = append(s.pending, p[:i]...)
		s.emitFullPieces()
		s.emit(bytes.TrimSuffix(s.pending, []byte("\r")), false)
		s.pending = s.pending[:0]
		p = p[i+1:]
	}
	return n, nil
}

// Close emits what is left: a last line without a final line break.
func (s *lineSplitter) Close() error {
	if len(s.pending) > 0 {
		s.emit(s.pending, false)
		s.pending = s.pending[:0]
	}
	return nil
}

// emitFullPieces emits maxPiece-sized pieces of the pending line while more than maxPiece bytes
// are waiting (one byte more, so a line of exactly maxPiece bytes stays whole).
func (s *lineSplitter) emitFullPieces() {
	for len(s.pending) > maxPiece {
		cut := runeBoundary(s.pending, maxPiece)
		s.emit(s.pending[:cut], true)
		s.pending = append(s.pending[:0], s.pending[cut:]...)
	}
}

// runeBoundary returns the largest cut <= limit where a character starts (a byte that is no
// UTF-8 continuation byte), so no valid character is split; in a run of invalid bytes it cuts at
// limit (they are replaced later anyway).
func runeBoundary(b []byte, limit int) int {
	for cut := limit; cut > limit-utf8.UTFMax && cut > 0; cut-- {
		if utf8.RuneStart(b[cut]) {
			return cut
		}
	}
	return limit
}

// truncateUTF8 cuts valid UTF-8 text to at most max bytes at a character boundary.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
