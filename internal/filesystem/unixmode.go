package filesystem

import "io/fs"

// UnixMode converts a Unix st_mode (as ext2/3/4 and XFS store it) to Go's type and permission
// bits; ok is false for a file type Unix does not define (the result then carries ModeIrregular).
func UnixMode(m uint16) (mode fs.FileMode, ok bool) {
	mode = fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch m & 0o170000 {
	case 0o100000:
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	default:
		return mode | fs.ModeIrregular, false
	}
	return mode, true
}

// DirentType converts the file-type byte Linux file systems keep in directory entries (ext2/3/4
// file_type, XFS ftype: 1 regular … 7 symlink) to Go's type bits; ok is false when it is unknown.
func DirentType(t uint8) (fs.FileMode, bool) {
	switch t {
	case 1:
		return 0, true
	case 2:
		return fs.ModeDir, true
	case 3:
		return fs.ModeDevice | fs.ModeCharDevice, true
	case 4:
		return fs.ModeDevice, true
	case 5:
		return fs.ModeNamedPipe, true
	case 6:
		return fs.ModeSocket, true
	case 7:
		return fs.ModeSymlink, true
	}
	return 0, false
}
