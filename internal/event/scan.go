package event

import (
	"bytes"
	"errors"
	"io"
)

// scanner splits a JSON stream into values without decoding them. It tracks only what it must to
// find a value's end — string and escape state, and nesting depth — so it runs at memory speed;
// the few records that matter are validated later by a real decoder. Memory stays constant: the
// buffer holds at most one marked value (bounded by max) plus one read chunk, whatever the input
// size.
type scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	// mark is the start of the value being captured, -1 when none. Bytes before min(mark, pos)
	// may be dropped on refill; when the marked span outgrows max the mark is dropped and
	// markLost set, so a huge value is skipped instead of buffered.
	mark     int
	markLost bool
	max      int
	eof      bool
	err      error // first read error other than io.EOF
	dropped  int64 // bytes discarded from the front of buf so far: offset of buf[0]
	kbuf     []byte
}

const readChunk = 64 << 10

var (
	errTruncated = errors.New("truncated JSON value")
	errTooLarge  = errors.New("record larger than the size cap")
	errSyntax    = errors.New("malformed JSON")
)

func newScanner(r io.Reader, max int) *scanner {
	return &scanner{r: r, buf: make([]byte, readChunk), mark: -1, max: max}
}

// offset is the stream offset of the next unread byte.
func (s *scanner) offset() int64 { return s.dropped + int64(s.pos) }

// more reads at least one more byte into buf, keeping buf[min(mark,pos):]. It reports false at
// end of input or on a read error.
func (s *scanner) more() bool {
	if s.eof {
		return false
	}
	keep := s.pos
	if s.mark >= 0 && s.mark < keep {
		keep = s.mark
	}
	if keep > 0 {
		copy(s.buf, s.buf[keep:s.end])
		s.end -= keep
		s.pos -= keep
		if s.mark >= 0 {
			s.mark -= keep
		}
		s.dropped += int64(keep)
	}
	if s.mark >= 0 && s.end-s.mark > s.max {
		// The captured value is over the cap: stop keeping it, skip it instead.
		s.dropped += int64(s.pos)
		copy(s.buf, s.buf[s.pos:s.end])
		s.end -= s.pos
		s.pos = 0
		s.mark = -1
		s.markLost = true
	}
	if len(s.buf)-s.end < readChunk/2 {
		nb := make([]byte, max(2*len(s.buf), s.end+readChunk))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	// A reader that keeps returning nothing and no error would spin us forever.
	s.eof, s.err = true, io.ErrNoProgress
	return false
}

// peek skips white space and returns the next byte without consuming it; ok is false at end of
// input.
func (s *scanner) peek() (c byte, ok bool) {
	for {
		for s.pos < s.end {
			c = s.buf[s.pos]
			if c > ' ' {
				// A UTF-8 byte order mark is white space here: some exporters write one.
				if c == 0xEF && s.end-s.pos >= 3 && s.buf[s.pos+1] == 0xBB && s.buf[s.pos+2] == 0xBF {
					s.pos += 3
					continue
				}
				return c, true
			}
			s.pos++
		}
		if !s.more() {
			return 0, false
		}
	}
}

// startCapture marks the next value's first byte as the start of a capture.
func (s *scanner) startCapture() {
	s.mark = s.pos
	s.markLost = false
}

// captured ends a capture and returns the bytes since startCapture (valid until the next call
// that reads), or nil when the value outgrew the cap.
func (s *scanner) captured() []byte {
	if s.markLost || s.mark < 0 || s.pos-s.mark > s.max {
		s.mark = -1
		return nil
	}
	b := s.buf[s.mark:s.pos]
	s.mark = -1
	return b
}

// skipValue advances past one JSON value of any kind. It validates nothing inside composites
// except that strings close and brackets balance.
func (s *scanner) skipValue() error {
	c, ok := s.peek()
	if !ok {
		return errTruncated
	}
	switch c {
	case '{', '[':
		return s.skipComposite()
	case '"':
		s.pos++
		return s.skipString()
	case ',', ':', '}', ']':
		return errSyntax
	default:
		return s.skipScalar()
	}
}

// skipScalar consumes a number or literal: everything up to the next delimiter.
func (s *scanner) skipScalar() error {
	for {
		for s.pos < s.end {
			switch s.buf[s.pos] {
			case ',', '}', ']', ' ', '\n', '\r', '\t', ':', '"', '{', '[':
				return nil
			}
			s.pos++
		}
		if !s.more() {
			return nil
		}
	}
}

// skipString consumes the rest of a string whose opening quote was consumed.
func (s *scanner) skipString() error {
	esc := false
	for {
		end, pending := strEnd(s.buf[:s.end], s.pos, esc)
		if end >= 0 {
			s.pos = end
			return nil
		}
		s.pos, esc = s.end, pending
		if !s.more() {
			return errTruncated
		}
	}
}

// strEnd finds the end of a string body starting at i: the index just past the closing quote,
// or -1 when b ends first, with pending telling whether b ended inside an escape. esc says the
// previous piece of the string ended inside one. bytes.IndexByte jumps over the body with
// vector instructions, which is most of the scanner's speed: audit records are mostly strings.
func strEnd(b []byte, i int, esc bool) (end int, pending bool) {
	if esc {
		if i >= len(b) {
			return -1, true
		}
		i++
	}
	start := i
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			n := 0
			for k := len(b) - 1; k >= start && b[k] == '\\'; k-- {
				n++
			}
			return -1, n%2 == 1
		}
		j += i
		n := 0
		for k := j - 1; k >= start && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, false
		}
		i = j + 1
	}
}

// structural marks the bytes skipComposite must look at outside strings.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipComposite consumes an object or array, the opening bracket not yet consumed.
func (s *scanner) skipComposite() error {
	depth := 0
	for {
		buf, i, end := s.buf[:s.end], s.pos, s.end
		for i < end {
			c := buf[i]
			i++
			if !structural[c] {
				continue
			}
			switch c {
			case '"':
				e, pending := strEnd(buf, i, false)
				if e < 0 {
					s.pos = end
					esc := pending
					for {
						if !s.more() {
							return errTruncated
						}
						e, esc = strEnd(s.buf[:s.end], s.pos, esc)
						if e >= 0 {
							break
						}
						s.pos = s.end
					}
					buf, end = s.buf[:s.end], s.end
				}
				i = e
			case '{', '[':
				depth++
			default: // '}' or ']'
				depth--
				if depth == 0 {
					s.pos = i
					return nil
				}
			}
		}
		s.pos = i
		if !s.more() {
			return errTruncated
		}
	}
}

// expect consumes byte c (after white space) or fails.
func (s *scanner) expect(c byte) error {
	got, ok := s.peek()
	if !ok {
		return errTruncated
	}
	if got != c {
		return errSyntax
	}
	s.pos++
	return nil
}

// key reads an object key and its colon. The key is copied aside (keys are short) because
// reading the colon may refill, and so move, the buffer; it is valid until the next key.
func (s *scanner) key() ([]byte, error) {
	k, err := s.stringBody()
	if err != nil {
		return nil, err
	}
	s.kbuf = append(s.kbuf[:0], k...)
	return s.kbuf, s.expect(':')
}

// stringBody reads a string and returns its body, escapes kept. Strings longer than 4 KiB are
// consumed and returned empty, which only means they match nothing we look for.
func (s *scanner) stringBody() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	for {
		// Look ahead without consuming so that a refill keeps the string's first byte.
		if e, _ := strEnd(s.buf[:s.end], s.pos, false); e >= 0 {
			k := s.buf[s.pos : e-1]
			s.pos = e
			return k, nil
		}
		if s.end-s.pos > 4096 {
			return nil, s.skipString()
		}
		if !s.more() {
			return nil, errTruncated
		}
	}
}

// next consumes the separator after a member or element: it reports whether another follows
// (a comma) or the container closed (the given closing byte).
func (s *scanner) next(closing byte) (more bool, err error) {
	c, ok := s.peek()
	if !ok {
		return false, errTruncated
	}
	s.pos++
	switch c {
	case ',':
		return true, nil
	case closing:
		return false, nil
	}
	return false, errSyntax
}

// opened consumes an opening bracket and reports whether the container is empty (and so already
// closed too).
func (s *scanner) opened(closing byte) (empty bool, err error) {
	s.pos++ // the caller peeked the opening byte
	c, ok := s.peek()
	if !ok {
		return false, errTruncated
	}
	if c == closing {
		s.pos++
		return true, nil
	}
	return false, nil
}

// skipLine drops input up to and including the next newline: the recovery point after a broken
// record in JSON Lines.
func (s *scanner) skipLine() {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			s.pos++
			if c == '\n' {
				return
			}
		}
		if !s.more() {
			return
		}
	}
}

// smallString reads a short string value's raw body without using the capture mark.
func (s *scanner) smallString() ([]byte, error) { return s.stringBody() }
