// Package ext4 reads ext2, ext3 and ext4 file systems from an io.ReaderAt without mounting them.
//
// Open parses the superblock and the group descriptors; *FS implements filesystem.Tree,
// Lookuper, Extenter and Residual, so filesystem.New turns it into an io/fs.FS. Every on-disk
// count, offset and chain is checked against the volume and a documented cap before it is used:
// images come from attackers too. See docs/design/filesystem-ext4.md.
package ext4
