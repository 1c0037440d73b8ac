// Package bytesize writes byte counts for people, the one way every command and report does:
// "512 B", "20.0 MiB", "2.0 GiB" (binary multiples, as disk tools use them).
package bytesize

import (
	"fmt"
	"strconv"
)

// Format writes n with a binary unit and one decimal.
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
