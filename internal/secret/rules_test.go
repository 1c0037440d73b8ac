package secret

import (
	"testing"
	"time"
)

// TestRuleCases drives every embedded rule through its own positive and negative cases (the
// [[rules.tests]] tables in rules/*.toml) with the full default scanner, so routing, windows,
// checks, allow-lists, pairing and overlap resolution are all exercised. A rule without both
// kinds of case fails.
func TestRuleCases(t *testing.T) {
	pinClock(t)
	tests, order, err := embeddedTests()
	if err != nil {
		t.Fatal(err)
	}
	if len(order) < 150 {
		t.Errorf("%d embedded rules, want at least 150", len(order))
	}
	s := Default()
	for _, id := range order {
		t.Run(id, func(t *testing.T) {
			var pos, neg int
			for _, tc := range tests[id] {
				for i, in := range tc.Positive {
					pos++
					if !hasRule(s.Scan(tc.Path, []byte(in)), id) {
						t.Errorf("positive %d not found:\n%s\ngot: %s", i, in, describe(s.Scan(tc.Path, []byte(in))))
					}
				}
				for i, in := range tc.Negative {
					neg++
					if ms := s.Scan(tc.Path, []byte(in)); hasRule(ms, id) {
						t.Errorf("negative %d matched:\n%s\ngot: %s", i, in, describe(ms))
					}
				}
			}
			if pos == 0 || neg == 0 {
				t.Errorf("rule has %d positive and %d negative cases; it needs both", pos, neg)
			}
		})
	}
}

func pinClock(t *testing.T) {
	saved := now
	now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { now = saved })
}

func hasRule(ms []Match, id string) bool {
	for _, m := range ms {
		if m.RuleID == id {
			return true
		}
	}
	return false
}

func describe(ms []Match) string {
	out := ""
	for _, m := range ms {
		out += m.RuleID + "(" + m.Redacted + ") "
	}
	if out == "" {
		return "nothing"
	}
	return out
}
