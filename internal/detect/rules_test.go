package detect

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// ruleCase is one positive or negative case of testdata/rulecases.json: events built from the
// documented record formats, in the normalized form the parsers produce.
type ruleCase struct {
	Rule     string        `json:"rule"`
	Name     string        `json:"name"`
	Expect   bool          `json:"expect"`
	Attempt  bool          `json:"attempt"` // the expected alert is the rule's "-attempt" twin
	Boundary *trust.Config `json:"boundary"`
	Setup    []event.Event `json:"setup"`
	Event    event.Event   `json:"event"`
	Repeat   int           `json:"repeat"`
	StepMS   int           `json:"step_ms"`
	Distinct bool          `json:"distinct_resources"`
	// Exposure is the state the event's resource (or ExposureResource) must be in afterwards.
	Exposure         string `json:"exposure"`
	ExposureResource string `json:"exposure_resource"`
}

func loadCases(t *testing.T) []ruleCase {
	t.Helper()
	b, err := os.ReadFile("testdata/rulecases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []ruleCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// run feeds a case to a fresh engine and returns the alerts of its main event(s).
func (c *ruleCase) run(t *testing.T, i int) (*Engine, []finding.Finding) {
	t.Helper()
	cfg := Config{}
	if c.Boundary != nil {
		cfg.Trust = *c.Boundary
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for j, ev := range c.Setup {
		ev.ID = fmt.Sprintf("case%d-setup%d", i, j)
		e.Process(ev)
	}
	n := max(c.Repeat, 1)
	var out []finding.Finding
	for j := range n {
		ev := c.Event
		ev.ID = fmt.Sprintf("case%d-%d", i, j)
		ev.Time = ev.Time.Add(time.Duration(j*c.StepMS) * time.Millisecond)
		if c.Distinct {
			ev.Resource.ID = fmt.Sprintf("%s-%d", ev.Resource.ID, j)
		}
		out = append(out, e.Process(ev)...)
	}
	return e, out
}

func TestRuleCases(t *testing.T) {
	rules, err := LoadRules("")
	if err != nil {
		t.Fatal(err)
	}
	kind := map[string]string{}
	for _, r := range rules {
		kind[r.ID] = r.Kind
	}
	for i, c := range loadCases(t) {
		t.Run(c.Rule+"/"+c.Name, func(t *testing.T) {
			if _, ok := kind[c.Rule]; !ok {
				t.Fatalf("no rule %s", c.Rule)
			}
			e, out := c.run(t, i)
			want := c.Rule
			if c.Attempt {
				want += "-attempt"
			}
			got := false
			for _, f := range out {
				got = got || f.Rule == want
				checkFinding(t, f)
			}
			if kind[c.Rule] == KindRevocation {
				if got {
					t.Fatal("a revocation rule alerted")
				}
			} else if got != c.Expect {
				t.Fatalf("%s fired=%v, want %v; alerts: %v", want, got, c.Expect, rulesOf(out))
			}
			if c.Exposure != "" {
				id := c.ExposureResource
				if id == "" {
					id = c.Event.Resource.ID
				}
				st := ""
				for _, x := range e.Exposures() {
					if x.Resource.ID == id {
						st = x.State
					}
				}
				if st != c.Exposure {
					t.Fatalf("exposure of %s is %q, want %q: %+v", id, st, c.Exposure, e.Exposures())
				}
			}
		})
	}
}

// TestEveryRuleHasCases: each shipped rule has a positive and a negative case in the data.
func TestEveryRuleHasCases(t *testing.T) {
	rules, err := LoadRules("")
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := map[string]bool{}, map[string]bool{}
	for _, c := range loadCases(t) {
		if c.Expect {
			pos[c.Rule] = true
		} else {
			neg[c.Rule] = true
		}
	}
	for _, r := range rules {
		if !pos[r.ID] || !neg[r.ID] {
			t.Errorf("rule %s: positive case %v, negative case %v", r.ID, pos[r.ID], neg[r.ID])
		}
	}
}

// checkFinding holds every alert to the Finding contract.
func checkFinding(t *testing.T, f finding.Finding) {
	t.Helper()
	if f.Kind != finding.KindEvent || f.ID == "" || f.Rule == "" || f.Title == "" || f.Resource.Provider == "" ||
		f.Resource.ID == "" || f.Status == "" || f.FirstSeen.IsZero() {
		t.Errorf("incomplete finding: %+v", f)
	}
	if recs, ok := f.Evidence["records"].([]string); !ok || len(recs) == 0 {
		t.Errorf("%s: no record ids in evidence", f.Rule)
	}
	if _, err := json.Marshal(f); err != nil {
		t.Errorf("%s: %v", f.Rule, err)
	}
}

func rulesOf(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}
