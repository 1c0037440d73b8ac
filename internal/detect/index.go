package detect

import (
	"strings"
)

// cloudIndex finds, for one cloud, what may care about an action. Keys are lower case: Azure
// spells operation names in any case, and Sigma compares case-insensitively everywhere.
type cloudIndex struct {
	actions map[string]*actionEntry
	// sigmaPatterns are Sigma rules whose action condition is not an exact name (endswith
	// "SetIamPolicy"); each is one case-folded string test per record of the cloud.
	sigmaPatterns []sigmaPattern
	// sigmaScan are Sigma rules with no action condition: a raw-text prefilter (and, past it,
	// a full evaluation) per record of the cloud.
	sigmaScan []*sigmaRule
}

// actionEntry is everything that watches one action.
type actionEntry struct {
	rules []ruleRef
	sigma []*sigmaRule
}

// ruleRef is a rule watching the action; evalRule tries each of its match blocks.
type ruleRef struct {
	rule *Rule
}

func (ci *cloudIndex) entry(action string) *actionEntry {
	if ci.actions == nil {
		ci.actions = map[string]*actionEntry{}
	}
	k := strings.ToLower(action)
	ent := ci.actions[k]
	if ent == nil {
		ent = &actionEntry{}
		ci.actions[k] = ent
	}
	return ent
}

func (ci *cloudIndex) sigmaWide() bool { return len(ci.sigmaPatterns) > 0 || len(ci.sigmaScan) > 0 }

// lookup folds the action to lower case on the stack and finds its entry without allocating.
func (ci *cloudIndex) lookup(action string) *actionEntry {
	if len(ci.actions) == 0 {
		return nil
	}
	var buf [128]byte
	if len(action) > len(buf) {
		return ci.actions[strings.ToLower(action)]
	}
	b := buf[:len(action)]
	for i := 0; i < len(action); i++ {
		c := action[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return ci.actions[string(b)] // the compiler does not allocate for a map index by string(bytes)
}

func (e *Engine) indexRule(r *Rule) {
	for i := range r.match {
		m := &r.match[i]
		ci := e.cloudIndex(m.cloud)
		for _, a := range m.actions {
			ent := ci.entry(a)
			dup := false
			for _, ref := range ent.rules {
				dup = dup || ref.rule == r // two blocks of one rule on one action
			}
			if !dup {
				ent.rules = append(ent.rules, ruleRef{rule: r})
			}
		}
	}
}

// Interest says which records the engine can use, so a parser's pre-filter may skip the rest
// without decoding them.
type Interest struct {
	// Actions per cloud ("aws", "azure", "gcp"), lower case.
	Actions map[string][]string
	// AllRecords lists the clouds for which every record matters: Sigma rules without an exact
	// action condition are loaded. Records with grants always matter.
	AllRecords []string
}

// Interest reports the actions the loaded rules watch.
func (e *Engine) Interest() Interest {
	in := Interest{Actions: map[string][]string{}}
	for i, cloud := range []string{"aws", "azure", "gcp"} {
		for a := range e.index[i].actions {
			in.Actions[cloud] = append(in.Actions[cloud], a)
		}
		if e.index[i].sigmaWide() {
			in.AllRecords = append(in.AllRecords, cloud)
		}
	}
	return in
}
