package secret

import (
	"bytes"
	"encoding/base64"
	"slices"
	"unicode/utf8"
)

// Secrets are often stored base64-encoded: Kubernetes Secret manifests, Docker config auths,
// cloud-init user-data, CI variables, JWT payloads. Scan decodes base64 runs and scans what they
// hold, to a bounded depth and a bounded number of decoded bytes, and reports what it finds at
// the encoded run's place with Context["encoding"] = "base64".
const (
	maxDecodeDepth = 2  // base64 inside base64 is found; a third layer is not looked at
	minBase64Run   = 24 // shorter runs are words and identifiers, not encoded secrets
	textProbe      = 96 // encoded bytes decoded first to tell text from binary cheaply
)

var base64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_") {
		t[c] = true
	}
	return
}()

// withDecoded adds the secrets found inside base64 runs of data to ms. A run that is itself part
// of a match (a JWT, a key body) is left alone: it was reported as what it is.
func (s *Scanner) withDecoded(path string, data []byte, ms []Match, depth int) []Match {
	if depth > maxDecodeDepth || len(data) < minBase64Run {
		return ms
	}
	budget := len(data) // decoded bytes scanned, all runs together
	line, pos := 1, 0
	var found []Match
	for start, end := range base64Runs(data) {
		if budget <= 0 {
			break
		}
		if overlapsMatch(ms, start, end) || !looksEncoded(data[start:end]) {
			continue
		}
		dec := decodeTextBase64(data[start:end])
		if dec == nil {
			continue
		}
		budget -= len(dec)
		inner := s.withDecoded(path, dec, s.scanPlain(path, dec), depth+1)
		if len(inner) == 0 {
			continue
		}
		line += bytes.Count(data[pos:start], []byte{'\n'})
		pos = start
		for _, m := range inner {
			ctx := map[string]string{"encoding": "base64"}
			for k, v := range m.Context {
				ctx[k] = v
			}
			m.Context = ctx
			m.Start, m.End, m.Line = start, end, line
			found = append(found, m)
		}
	}
	if len(found) == 0 {
		return ms
	}
	ms = append(ms, found...)
	slices.SortStableFunc(ms, func(a, b Match) int { return a.Start - b.Start })
	return ms
}

// base64Runs yields the [start, end) spans of data made only of base64 characters (standard or
// URL alphabet) and long enough to hold a secret, with trailing padding. A run of minBase64Run
// characters must cover the byte minBase64Run-1 ahead of where it could start, so the search
// probes there and skips the whole stretch when that byte cannot be in a run (most of a text or
// binary file), instead of testing every byte.
func base64Runs(data []byte) func(yield func(int, int) bool) {
	return func(yield func(int, int) bool) {
		i := 0
		for i+minBase64Run <= len(data) {
			p := i + minBase64Run - 1
			if !base64Alphabet[data[p]] {
				i = p + 1
				continue
			}
			start := p
			for start > i && base64Alphabet[data[start-1]] {
				start--
			}
			end := p + 1
			for end < len(data) && base64Alphabet[data[end]] {
				end++
			}
			if end-start < minBase64Run {
				i = end + 1
				continue
			}
			stop := end
			for stop < len(data) && stop-end < 2 && data[stop] == '=' {
				stop++
			}
			if !yield(start, stop) {
				return
			}
			i = stop
		}
	}
}

// decodeTextBase64 decodes a run as standard or URL base64, padded or not, and returns the bytes
// only if they are text: binary (DER keys, images, compressed data) holds nothing the rules read.
func decodeTextBase64(run []byte) []byte {
	enc := base64.StdEncoding
	if bytes.ContainsAny(run, "-_") {
		enc = base64.URLEncoding
	}
	if !bytes.HasSuffix(run, []byte("=")) {
		enc = enc.WithPadding(base64.NoPadding)
		run = run[:len(run)-len(run)%4]
		if len(run)%4 == 1 {
			return nil
		}
	}
	probe := run[:min(len(run), textProbe)]
	probe = probe[:len(probe)-len(probe)%4]
	var head [textProbe]byte
	n, _ := enc.WithPadding(base64.NoPadding).Decode(head[:], bytes.TrimRight(probe, "="))
	if !isText(head[:n]) {
		return nil
	}
	out := make([]byte, enc.DecodedLen(len(run)))
	n, err := enc.Decode(out, run)
	if err != nil || !isText(out[:n]) {
		return nil
	}
	return out[:n]
}

// looksEncoded rejects runs of base64 characters that are words, paths or identifiers rather
// than encoded bytes: encoded data mixes upper case, lower case and digits, and has few '/'.
// It keeps the decoder away from most of a text file's long tokens.
func looksEncoded(run []byte) bool {
	run = run[:min(len(run), 4*textProbe)] // the head decides; a blob's length changes nothing
	var upper, lower, digit, slash int
	for _, c := range run {
		switch {
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		case c >= '0' && c <= '9':
			digit++
		case c == '/':
			slash++
		}
	}
	return upper > 0 && lower > 0 && digit > 0 && slash*16 <= len(run)
}

// isText says whether b reads as text: valid UTF-8 with few control characters.
func isText(b []byte) bool {
	if len(b) < minBase64Run/2 || !utf8.Valid(b) {
		return false
	}
	ctrl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctrl++
		}
	}
	return ctrl*20 < len(b)
}

func overlapsMatch(ms []Match, start, end int) bool {
	for _, m := range ms {
		if m.Start < end && start < m.End {
			return true
		}
	}
	return false
}
