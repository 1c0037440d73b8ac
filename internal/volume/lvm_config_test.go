package volume

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	text := "# header comment\n" +
		"top = 1\n" +
		"vg {\t# trailing comment\n" +
		"  id = \"a\\\"b\\\\c\"\n" +
		"  neg = -42\n" +
		"  ratio = 1.5e3\n" +
		"  quoted = 'single'\n" +
		"  list = [ \"x\", 2 , -3, ]\n" +
		"  empty = []\n" +
		"  multi = \"line1\nline2\"\n" +
		"  weird.name-1+ {\n    inner = 7\n  }\n" +
		"}\n\x00garbage after the NUL {{{"
	root, err := parseConfig([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := root.intValue("top"); !ok || v != 1 {
		t.Error("top")
	}
	vg := root.section("vg")
	if vg == nil {
		t.Fatal("no section vg")
	}
	if s, _ := vg.stringValue("id"); s != `a"b\c` {
		t.Errorf("escapes: %q", s)
	}
	if n, _ := vg.intValue("neg"); n != -42 {
		t.Errorf("neg: %d", n)
	}
	if c := vg.child("ratio"); c == nil || c.kind != configFloat || c.str != "1.5e3" {
		t.Errorf("float: %+v", c)
	}
	if s, _ := vg.stringValue("quoted"); s != "single" {
		t.Errorf("single quotes: %q", s)
	}
	list, ok := vg.arrayValue("list")
	if !ok || len(list) != 3 || list[0].str != "x" || list[1].num != 2 || list[2].num != -3 {
		t.Errorf("list: %+v", list)
	}
	if e, ok := vg.arrayValue("empty"); !ok || len(e) != 0 {
		t.Error("empty list")
	}
	if s, _ := vg.stringValue("multi"); s != "line1\nline2" {
		t.Errorf("multi-line string %q", s)
	}
	inner := vg.section("weird.name-1+")
	if inner == nil || inner.line != 12 {
		t.Fatalf("inner section: %+v", inner)
	}
	if n, _ := inner.intValue("inner"); n != 7 {
		t.Error("inner value")
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := map[string]string{
		"a = ":                            "line 1: value of \"a\": expected a value, found the end",
		"a = b":                           "expected a value, found 'b'",
		"a b":                             "expected '=' or '{' after \"a\", found 'b'",
		"}":                               "'}' without an open section",
		"a {\n b = 1\n":                   "line 3: section \"a\" is not closed",
		"a = [1, 2":                       "array is not closed",
		"a = [1 2]":                       "expected ',' or ']' in array, found '2'",
		"a = [[1]]":                       "expected a value, found '['",
		"a = \"open":                      "string is not closed",
		"a = \"x\\":                       "string ends in a backslash",
		"a = 9223372036854775808":         "is not a 64-bit number",
		"a = -9223372036854775809":        "is not a 64-bit number",
		"a = 1.2.3e":                      "bad number",
		"= 1":                             "expected a name, found '='",
		strings.Repeat("a {", 33):         "sections nest deeper than 32",
		strings.Repeat("a = 1\n", 300000): "more than 262144 items",
	}
	for text, want := range cases {
		_, err := parseConfig([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %v, want %q", text, err, want)
		}
	}
	if _, err := parseConfig([]byte(strings.Repeat("a {", 32) + strings.Repeat("}", 32))); err != nil {
		t.Errorf("32 levels are allowed: %v", err)
	}
}
