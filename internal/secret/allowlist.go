package secret

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// allowlist is a compiled gitleaks allow-list: it suppresses findings whose secret (or match, or
// line) matches a regex, whose secret contains a stopword, or whose file path matches. With the
// OR condition any one criterion suffices; with AND every criterion given must hold.
type allowlist struct {
	description string
	and         bool
	hasCommits  bool // commits can never match here (no git context), which matters under AND
	paths       *pathSet
	target      regexTarget
	regexes     *regexp.Regexp
	stopwords   [][]byte // lower-cased
}

type regexTarget int

const (
	targetSecret regexTarget = iota
	targetMatch
	targetLine
)

func compileAllowlist(a allowlistConfig) (*allowlist, error) {
	al := &allowlist{description: a.Description, hasCommits: len(a.Commits) > 0}
	switch strings.ToUpper(a.Condition) {
	case "", "OR", "||":
	case "AND", "&&":
		al.and = true
	default:
		return nil, fmt.Errorf("allow-list condition %q (want AND or OR)", a.Condition)
	}
	switch a.RegexTarget {
	case "", "secret":
	case "match":
		al.target = targetMatch
	case "line":
		al.target = targetLine
	default:
		return nil, fmt.Errorf("allow-list regexTarget %q (want secret, match or line)", a.RegexTarget)
	}
	if len(a.Commits) == 0 && len(a.Paths) == 0 && len(a.Regexes) == 0 && len(a.StopWords) == 0 {
		return nil, errors.New("allow-list has none of commits, paths, regexes, stopwords")
	}
	var err error
	if al.paths, err = compilePathSet(a.Paths); err != nil {
		return nil, fmt.Errorf("allow-list paths: %w", err)
	}
	if al.regexes, err = joinRegexps(a.Regexes); err != nil {
		return nil, fmt.Errorf("allow-list regexes: %w", err)
	}
	for _, w := range a.StopWords {
		if w != "" {
			al.stopwords = append(al.stopwords, []byte(strings.ToLower(w)))
		}
	}
	return al, nil
}

// joinRegexps compiles each pattern alone (so an error names the culprit) and then their
// alternation, which evaluates all of them in one pass.
func joinRegexps(patterns []string) (*regexp.Regexp, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	parts := make([]string, len(patterns))
	for i, p := range patterns {
		if _, err := regexp.Compile(p); err != nil {
			return nil, err
		}
		parts[i] = "(?:" + p + ")"
	}
	return regexp.Compile(strings.Join(parts, "|"))
}

// pathOnly reports whether the list decides by path alone, so it can skip a whole file before
// any matching: OR lists with paths, and AND lists whose only criterion is paths.
func (a *allowlist) pathOnly() bool {
	if a.paths == nil {
		return false
	}
	return !a.and || (a.regexes == nil && a.stopwords == nil && !a.hasCommits)
}

func (a *allowlist) pathAllowed(path string) bool {
	return a.paths != nil && path != "" && a.paths.MatchString(path)
}

// candidateView is what allow-lists look at for one finding; the line and the lower-cased
// secret are computed on first use, since most lists need neither.
type candidateView struct {
	path         string
	secret       []byte
	match        []byte
	data         []byte // the whole input, to find the line in
	mStart, mEnd int
	line         []byte
	lowerSecret  []byte
	lowerPending bool
}

func (v *candidateView) lineBytes() []byte {
	if v.line == nil {
		v.line = lineAround(v.data, v.mStart, v.mEnd)
	}
	return v.line
}

func (v *candidateView) lower() []byte {
	if v.lowerPending {
		v.lowerSecret = bytes.ToLower(v.secret)
		v.lowerPending = false
	}
	return v.lowerSecret
}

// allows reports whether this list suppresses the finding.
func (a *allowlist) allows(v *candidateView) bool {
	regexHit := func() bool {
		if a.regexes == nil {
			return false
		}
		switch a.target {
		case targetMatch:
			return a.regexes.Match(v.match)
		case targetLine:
			return a.regexes.Match(v.lineBytes())
		}
		return a.regexes.Match(v.secret)
	}
	stopHit := func() bool {
		for _, w := range a.stopwords {
			if bytes.Contains(v.lower(), w) {
				return true
			}
		}
		return false
	}
	if !a.and {
		return a.pathAllowed(v.path) || regexHit() || stopHit()
	}
	if a.hasCommits {
		return false
	}
	if a.paths != nil && !a.pathAllowed(v.path) {
		return false
	}
	if a.regexes != nil && !regexHit() {
		return false
	}
	if a.stopwords != nil && !stopHit() {
		return false
	}
	return true
}
