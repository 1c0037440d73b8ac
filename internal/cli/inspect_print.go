package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/snapwatch/snapwatch/internal/bytesize"
)

type inspectPrinter interface {
	image(imageRecord)
	volume(volumeRecord)
	section(volume, fsType string, deleted bool)
	file(fileRecord)
	problem(problemRecord)
}

type jsonPrinter struct{ enc *json.Encoder }

func newJSONPrinter(w *bufio.Writer) *jsonPrinter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonPrinter{enc: enc}
}

func (p *jsonPrinter) image(r imageRecord)          { p.enc.Encode(r) }
func (p *jsonPrinter) volume(r volumeRecord)        { p.enc.Encode(r) }
func (p *jsonPrinter) section(string, string, bool) {}
func (p *jsonPrinter) file(r fileRecord)            { p.enc.Encode(r) }
func (p *jsonPrinter) problem(r problemRecord)      { p.enc.Encode(r) }

// tablePrinter writes for people: an image line, an indented volume tree, then file listings
// in the style of ls -l.
type tablePrinter struct {
	w     *bufio.Writer
	depth map[string]int
}

func (p *tablePrinter) image(r imageRecord) {
	p.depth = map[string]int{}
	fmt.Fprintf(p.w, "%s: %s, %s (%d bytes)\n", r.Image, r.Format, bytesize.Format(r.Size), r.Size)
}

func (p *tablePrinter) volume(r volumeRecord) {
	d := 1
	if r.Parent != "" {
		d = p.depth[r.Parent] + 1
	}
	p.depth[r.Name] = d
	var b strings.Builder
	b.WriteString(strings.Repeat("  ", d))
	fmt.Fprintf(&b, "%-12s", r.Name)
	if r.Offset >= 0 {
		fmt.Fprintf(&b, " @%-10s", bytesize.Format(r.Offset))
	} else {
		fmt.Fprintf(&b, " %-11s", "")
	}
	fmt.Fprintf(&b, " %9s  %s", bytesize.Format(r.Size), r.Scheme)
	if r.Kind != "" {
		fmt.Fprintf(&b, " %s", r.Kind)
	}
	if r.Label != "" {
		fmt.Fprintf(&b, " %q", r.Label)
	}
	if r.Bootable {
		b.WriteString(" bootable")
	}
	if r.FS != "" {
		fmt.Fprintf(&b, "  fs=%s", r.FS)
	}
	if r.FSLabel != "" {
		fmt.Fprintf(&b, " label=%q", r.FSLabel)
	}
	if r.FSUUID != "" {
		fmt.Fprintf(&b, " uuid=%s", r.FSUUID)
	}
	if r.Problem != "" {
		fmt.Fprintf(&b, "  [%s]", r.Problem)
	}
	fmt.Fprintln(p.w, b.String())
}

func (p *tablePrinter) section(volume, fsType string, deleted bool) {
	what := "files"
	if deleted {
		what = "deleted entries"
	}
	fmt.Fprintf(p.w, "\n%s (%s) %s:\n", volume, fsType, what)
}

func (p *tablePrinter) file(r fileRecord) {
	mtime := "-"
	if r.MTime != nil {
		mtime = r.MTime.Format("2006-01-02 15:04")
	}
	line := fmt.Sprintf("  %-10s %8d %12d %s  %s", r.Mode, r.Inode, r.Size, mtime, r.Path)
	if r.Link != "" {
		line += " -> " + r.Link
	}
	for _, s := range r.Streams {
		line += fmt.Sprintf(" [stream %s: %d bytes]", s.Name, s.Size)
	}
	if r.Deleted && r.Recovered != nil {
		line += fmt.Sprintf("  (deleted; %d bytes recoverable)", *r.Recovered)
	}
	fmt.Fprintln(p.w, line)
}

func (p *tablePrinter) problem(r problemRecord) {
	where := r.Image
	if r.Volume != "" {
		where += " " + r.Volume
	}
	if r.Path != "" {
		where += " " + r.Path
	}
	fmt.Fprintf(p.w, "  %s: %s: %s\n", r.Type, where, r.Error)
}

// lsMode prints a mode as ls -l does ("drwxr-xr-x", "lrwxrwxrwx", "-rwsr-xr-x").
func lsMode(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special := func(pos int, set bool, lower, upper byte) {
		if !set {
			return
		}
		if b[pos] == '-' {
			b[pos] = upper
		} else {
			b[pos] = lower
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}
