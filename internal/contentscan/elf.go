package contentscan

import (
	"debug/elf"
	"io"
	"slices"
)

// minCodeSkip is the smallest .text worth leaving out: below it, parsing the section table costs
// more than scanning the bytes.
const minCodeSkip = 64 << 10

// codeRange returns where an ELF file's .text section lies, to be left out of the secret scan:
// machine code holds no secret whole (a string literal lives in .rodata or .data, which are
// scanned), and .text is about half of every binary and library of a root file system. Only
// the section named .text with the execute flag is left out, so a secret put in a section of
// its own is still read; anything that does not parse as ELF is scanned whole.
func codeRange(ra io.ReaderAt, size int64) (start, end int64, ok bool) {
	f, err := elf.NewFile(io.NewSectionReader(ra, 0, size))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	s := f.Section(".text")
	if s == nil || s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR == 0 {
		return 0, 0, false
	}
	start, end = int64(s.Offset), int64(s.Offset+s.Size)
	if start < 0 || end > size || end < start || end-start < minCodeSkip {
		return 0, 0, false
	}
	return start, end, true
}

// keptRanges splits [0, size) around the code range.
func keptRanges(size, codeStart, codeEnd int64) [][2]int64 {
	return slices.DeleteFunc([][2]int64{{0, codeStart}, {codeEnd, size}}, func(r [2]int64) bool { return r[1] <= r[0] })
}
