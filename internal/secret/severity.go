package secret

import "github.com/snapwatch/snapwatch/internal/finding"

// Severity ranks a match. It is the findings' own type: a match becomes a finding unchanged.
type Severity = finding.Severity

// Severities from least to most urgent; the zero value is Info so an unset severity never escalates.
const (
	Info     = finding.Info
	Low      = finding.Low
	Medium   = finding.Medium
	High     = finding.High
	Critical = finding.Critical
)

// ParseSeverity reads critical, high, medium, low or info, in any case.
func ParseSeverity(name string) (Severity, error) { return finding.ParseSeverity(name) }

// equalFold compares ASCII strings ignoring case; rule-file vocabulary is ASCII.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
