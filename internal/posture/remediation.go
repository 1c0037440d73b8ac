package posture

import (
	"strings"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// expand fills a remediation template.
func expand(tmpl string, c *inventory.Common, g inventory.Grant) string {
	name := cond(c.Name != "", c.Name, c.ID)
	if c.Provider == inventory.GCP || (c.Provider == inventory.Azure && c.Name == "") {
		name = lastPath(c.ID) // GCP self links and Azure resource ids end with the name
	}
	permkey := ""
	switch g.Kind {
	case inventory.GrantAccount:
		permkey = "UserId"
	case inventory.GrantOrg:
		permkey = "OrganizationArn"
	case inventory.GrantOU:
		permkey = "OrganizationalUnitArn"
	case inventory.GrantSubscription:
		permkey = "subscription-ids"
	case inventory.GrantTenant:
		permkey = "tenant-ids"
	}
	// A hand-rolled scan: strings.NewReplacer builds a trie per call, which dominated Check's
	// cost when every stale snapshot's remediation was expanded.
	var b strings.Builder
	b.Grow(len(tmpl) + 2*len(c.ID))
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		v, ok := "", false
		if j := strings.IndexByte(tmpl, '}'); j > 0 {
			if v, ok = placeholder(tmpl[1:j], c, g, name, permkey); ok {
				tmpl = tmpl[j+1:]
			}
		}
		if !ok { // a literal brace: "{Group=all}" in an AMI command
			v, tmpl = "{", tmpl[1:]
		}
		b.WriteString(v)
	}
}

func placeholder(key string, c *inventory.Common, g inventory.Grant, name, permkey string) (string, bool) {
	switch key {
	case "id":
		return c.ID, true
	case "name":
		return name, true
	case "region":
		return c.Region, true
	case "account":
		return owner(c), true
	case "value":
		return g.Value, true
	case "role":
		return cond(g.Role != "", g.Role, "<role>"), true
	case "permkey":
		return permkey, true
	case "rg":
		return azureSegment(c.ID, "resourcegroups"), true
	case "gallery":
		return azureSegment(c.ID, "galleries"), true
	}
	return "", false
}

// azureSegment returns the name after a segment (lower case) of an Azure resource id
// ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/...").
func azureSegment(id, seg string) string {
	i := strings.Index(strings.ToLower(id), "/"+seg+"/")
	if i < 0 {
		return "<" + seg + ">"
	}
	name, _, _ := strings.Cut(id[i+len(seg)+2:], "/")
	return name
}
