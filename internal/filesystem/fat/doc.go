// Package fat reads FAT12, FAT16, FAT32 and exFAT volumes through an io.ReaderAt, without
// mounting them, and exposes them as a filesystem.Tree (wrap it with filesystem.New for io/fs).
//
// FAT has no inode numbers, so the package makes them up from where a file's directory entry
// lies: the entry's byte offset in the volume divided by 32 (for exFAT the offset of the File
// entry that opens the entry set). The root directory has the reserved id 1, which no entry can
// have because the boot sector occupies the first bytes of every volume. An id is stable for as
// long as the directory entry stays where it is, and Stat re-reads the entry from the id alone.
//
// Besides the live tree the package implements filesystem.Extenter (a file's clusters as volume
// byte ranges) and filesystem.Residual (free clusters, and directory entries that deletion left
// behind, with their content recovered the way forensic tools do).
//
// Every structure read from the volume is distrusted: counts and sizes are checked against the
// volume and against the documented caps below before anything is allocated, every cluster chain
// is bounded and checked for cycles, and a broken structure ends in a filesystem.CorruptError
// that names it.
package fat
