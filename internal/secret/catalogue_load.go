package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// catalogueFile is one catalogue data file as written.
type catalogueFile struct {
	Exclude    []string          `toml:"exclude"` // global exclusions, for every signature
	Signatures []signatureConfig `toml:"signatures"`
}

type signatureConfig struct {
	ID              string              `toml:"id"`
	Title           string              `toml:"title"`
	Description     string              `toml:"description"`
	Severity        string              `toml:"severity"`
	Category        string              `toml:"category"`
	Remediation     string              `toml:"remediation"`
	Paths           []string            `toml:"paths"`
	Exclude         []string            `toml:"exclude"`
	IgnoreCase      bool                `toml:"ignoreCase"`
	MinSize         *int64              `toml:"minSize"` // default 1: an empty file holds nothing
	MaxSize         int64               `toml:"maxSize"`
	Magic           []magicConfig       `toml:"magic"`
	Regex           string              `toml:"regex"`
	Analyzer        string              `toml:"analyzer"`
	Read            int64               `toml:"read"`
	Fallback        bool                `toml:"fallback"`
	NoGlobalExclude bool                `toml:"noGlobalExclude"`
	Disabled        bool                `toml:"disabled"`
	Tests           []catalogueTestCase `toml:"tests"`
}

type magicConfig struct {
	At    int64  `toml:"at"`
	Hex   string `toml:"hex"`
	Text  string `toml:"text"`
	Label string `toml:"label"`
}

// catalogueTestCase is one test of a signature, run by TestCatalogueCases through Wants then
// Check, as the scanner would. Content is text, hex, or both (hex appended), after zeros NUL
// bytes; size defaults to the content's length. Hex may be split by white space, and "XX*N"
// stands for the byte XX repeated N times.
type catalogueTestCase struct {
	Path     string         `toml:"path"`
	Content  string         `toml:"content"`
	Hex      string         `toml:"hex"`
	Zeros    int            `toml:"zeros"`
	Size     int64          `toml:"size"`
	Match    *bool          `toml:"match"`
	Severity string         `toml:"severity"` // expected severity of a match
	Evidence map[string]any `toml:"evidence"` // expected evidence entries (a subset)
}

// data returns the bytes a test case describes.
func (tc *catalogueTestCase) data() ([]byte, error) {
	out := make([]byte, tc.Zeros, tc.Zeros+len(tc.Content)+len(tc.Hex)/2)
	out = append(out, tc.Content...)
	for _, tok := range strings.Fields(tc.Hex) {
		// "00*4086" is the byte 00 repeated 4086 times; anything else is plain hex.
		if b, n, ok := strings.Cut(tok, "*"); ok {
			v, err := hex.DecodeString(b)
			count, cerr := strconv.Atoi(n)
			if err != nil || cerr != nil || len(v) != 1 || count < 0 || count > 1<<24 {
				return nil, fmt.Errorf("bad repetition %q", tok)
			}
			out = append(out, bytes.Repeat(v, count)...)
			continue
		}
		v, err := hex.DecodeString(tok)
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
}

// catalogueSet gathers signatures before compiling: a later signature with an existing id
// replaces it in place, and disabled = true removes it.
type catalogueSet struct {
	order   []string
	sigs    map[string]*signatureConfig
	from    map[string]string // signature id → the file that defined it, for errors
	exclude []string
}

// LoadCatalogue compiles the embedded signatures (when defaults is true) and then each file in
// order. A signature with the id of an earlier one replaces it whole; `disabled = true` removes
// it. Every file's global exclusions apply to all signatures.
func LoadCatalogue(defaults bool, files ...string) (*Catalogue, error) {
	set := newCatalogueSet()
	if defaults {
		if err := set.addEmbedded(); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("secret: catalogue: %w", err)
		}
		err = set.add(f, r, false)
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	return set.compile()
}

func newCatalogueSet() *catalogueSet {
	return &catalogueSet{sigs: map[string]*signatureConfig{}, from: map[string]string{}}
}

func (set *catalogueSet) addEmbedded() error {
	names, err := fs.Glob(embeddedCatalogue, "catalogue/*.toml")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := embeddedCatalogue.Open(name)
		if err != nil {
			return err
		}
		err = set.add(name, f, true)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (set *catalogueSet) add(name string, r io.Reader, embedded bool) error {
	var cf catalogueFile
	md, err := toml.NewDecoder(r).Decode(&cf)
	if err != nil {
		return fmt.Errorf("secret: catalogue %s: %w", name, err)
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		if len(k) > 3 && k[0] == "signatures" && k[1] == "tests" && k[2] == "evidence" {
			continue // nested tables of expected evidence are free-form
		}
		unknown = append(unknown, k.String())
	}
	if len(unknown) > 0 {
		return fmt.Errorf("secret: catalogue %s: unknown keys %s", name, strings.Join(unknown, ", "))
	}
	set.exclude = append(set.exclude, cf.Exclude...)
	local := map[string]bool{}
	for i := range cf.Signatures {
		sc := cf.Signatures[i]
		if strings.TrimSpace(sc.ID) == "" {
			return fmt.Errorf("secret: catalogue %s: signature %d has no id", name, i+1)
		}
		if local[sc.ID] {
			return fmt.Errorf("secret: catalogue %s: signature %s defined twice", name, sc.ID)
		}
		local[sc.ID] = true
		if _, exists := set.sigs[sc.ID]; exists && embedded {
			return fmt.Errorf("secret: catalogue %s: signature %s already defined", name, sc.ID)
		}
		if sc.Disabled { // an id that is not there (yet) is ignored, as gitleaks' disabledRules
			delete(set.sigs, sc.ID)
			set.order = removeString(set.order, sc.ID)
			continue
		}
		if _, exists := set.sigs[sc.ID]; !exists {
			set.order = append(set.order, sc.ID)
		}
		set.sigs[sc.ID] = &sc
		set.from[sc.ID] = name
	}
	return nil
}

func (set *catalogueSet) compile() (*Catalogue, error) {
	if len(set.order) == 0 {
		return nil, errors.New("secret: catalogue has no signatures")
	}
	c := &Catalogue{}
	var globs []*glob
	for _, id := range set.order {
		s, gs, err := compileSignature(set.sigs[id], int32(len(c.sigs)))
		if err != nil {
			return nil, fmt.Errorf("secret: catalogue %s: signature %s: %w", set.from[id], id, err)
		}
		c.sigs = append(c.sigs, s)
		globs = append(globs, gs...)
	}
	for _, e := range set.exclude {
		gs, err := compileGlobs(e, false, false, -1)
		if err != nil {
			return nil, fmt.Errorf("secret: catalogue: global exclude: %w", err)
		}
		c.exclude = append(c.exclude, gs...)
	}
	c.index = newPathIndex(globs)
	return c, nil
}

func compileSignature(sc *signatureConfig, index int32) (*signature, []*glob, error) {
	s := &signature{
		id: sc.ID, title: sc.Title, description: sc.Description, category: sc.Category,
		remediation: sc.Remediation, paths: sc.Paths, minSize: 1, maxSize: sc.MaxSize,
		fallback: sc.Fallback, globalExclude: !sc.NoGlobalExclude,
	}
	if strings.TrimSpace(sc.Title) == "" {
		return nil, nil, errors.New("no title")
	}
	if strings.TrimSpace(sc.Category) == "" {
		return nil, nil, errors.New("no category")
	}
	sev, err := ParseSeverity(sc.Severity)
	if err != nil {
		return nil, nil, err
	}
	s.severity = sev
	if sc.MinSize != nil {
		s.minSize = *sc.MinSize
	}
	if s.minSize < 0 || s.maxSize < 0 || (s.maxSize > 0 && s.maxSize < s.minSize) {
		return nil, nil, fmt.Errorf("size range %d..%d is empty or negative", s.minSize, s.maxSize)
	}
	if len(sc.Paths) == 0 {
		return nil, nil, errors.New("no paths")
	}
	var globs []*glob
	for _, p := range sc.Paths {
		gs, err := compileGlobs(p, sc.IgnoreCase, true, index)
		if err != nil {
			return nil, nil, err
		}
		globs = append(globs, gs...)
	}
	for _, p := range sc.Exclude {
		gs, err := compileGlobs(p, sc.IgnoreCase, false, index)
		if err != nil {
			return nil, nil, fmt.Errorf("exclude: %w", err)
		}
		s.exclude = append(s.exclude, gs...)
	}
	for i, mc := range sc.Magic {
		var b []byte
		switch {
		case mc.Hex != "" && mc.Text != "":
			return nil, nil, fmt.Errorf("magic %d sets both hex and text", i+1)
		case mc.Hex != "":
			if b, err = hex.DecodeString(mc.Hex); err != nil {
				return nil, nil, fmt.Errorf("magic %d: %w", i+1, err)
			}
		case mc.Text != "":
			b = []byte(mc.Text)
		}
		if len(b) == 0 {
			return nil, nil, fmt.Errorf("magic %d is empty", i+1)
		}
		if mc.At < 0 || mc.At+int64(len(b)) > maxMagicEnd {
			return nil, nil, fmt.Errorf("magic %d at %d is outside the first %d bytes", i+1, mc.At, maxMagicEnd)
		}
		s.magic = append(s.magic, magic{at: mc.At, bytes: b, label: mc.Label})
	}
	if sc.Regex != "" {
		if s.re, err = regexp.Compile(sc.Regex); err != nil {
			return nil, nil, fmt.Errorf("regex: %w", err)
		}
		s.read = defaultRegexRead
	}
	if sc.Analyzer != "" {
		a, ok := analyzers[sc.Analyzer]
		if !ok {
			return nil, nil, fmt.Errorf("unknown analyzer %q (known: %s)", sc.Analyzer, strings.Join(analyzerNames(), ", "))
		}
		s.analyzer = a
		s.read = max(s.read, a.read)
	}
	if sc.Read != 0 {
		if sc.Read < 0 || sc.Read > maxRead {
			return nil, nil, fmt.Errorf("read %d out of range 1..%d", sc.Read, maxRead)
		}
		if s.re == nil && s.analyzer == nil {
			return nil, nil, errors.New("read is set but there is no regex or analyzer to read for")
		}
		s.read = sc.Read
	}
	for i, tc := range sc.Tests {
		if tc.Path == "" || tc.Match == nil {
			return nil, nil, fmt.Errorf("test %d needs path and match", i+1)
		}
		if _, err := tc.data(); err != nil {
			return nil, nil, fmt.Errorf("test %d: hex: %w", i+1, err)
		}
		if tc.Severity != "" {
			if _, err := ParseSeverity(tc.Severity); err != nil {
				return nil, nil, fmt.Errorf("test %d: %w", i+1, err)
			}
		}
	}
	return s, globs, nil
}

func analyzerNames() []string {
	names := make([]string, 0, len(analyzers))
	for n := range analyzers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// embeddedCatalogueTests returns the embedded signatures' test cases by id, and the ids in order.
func embeddedCatalogueTests() (map[string][]catalogueTestCase, []string, error) {
	set := newCatalogueSet()
	if err := set.addEmbedded(); err != nil {
		return nil, nil, err
	}
	out := map[string][]catalogueTestCase{}
	for _, id := range set.order {
		out[id] = set.sigs[id].Tests
	}
	return out, set.order, nil
}
