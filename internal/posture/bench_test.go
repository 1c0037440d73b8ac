package posture

import (
	"testing"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// BenchmarkCheck runs every check over 100k snapshots and 10k AMIs (5 accounts × 17 regions)
// with a realistic mix: two thirds older than a year, a fifth unencrypted, a few public.
func BenchmarkCheck(b *testing.B) {
	benchCheck(b, estate(100_000, 10_000, 1))
}

// BenchmarkCheckQuiet is the same estate kept clean (recent, encrypted with a customer key,
// unshared): the cost of looking, with almost nothing to report.
func BenchmarkCheckQuiet(b *testing.B) {
	inv := estate(100_000, 10_000, 1)
	quiet := func(c *inventory.Common) {
		c.Created, c.Grants, c.Encryption, c.Lineage.SourceExists = now.AddDate(0, -1, 0), nil, cmkEnc(nil, true), inventory.Yes
	}
	for i := range inv.Snapshots {
		quiet(&inv.Snapshots[i].Common)
	}
	for i := range inv.Images {
		quiet(&inv.Images[i].Common)
		for j := range inv.Images[i].Backing {
			inv.Images[i].Backing[j].Exists = inventory.Yes
		}
	}
	benchCheck(b, inv)
}

func benchCheck(b *testing.B, inv *inventory.Inventory) {
	cfg := testConfig()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for b.Loop() {
		n = len(Check(inv, cfg))
	}
	b.ReportMetric(float64(n), "findings")
}
