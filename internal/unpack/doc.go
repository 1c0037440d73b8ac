// Package unpack looks inside compressed files and archives for the content scanner, and reads
// UTF-16 text as UTF-8.
//
// Walk takes one file (random access, as the scanner has it) and yields every readable stream
// inside it: the file itself after decompression, or the members of an archive, recursively
// (a .tar.gz yields the tar's members; a zip inside that tar yields its members too). Kind sniffs
// a file's format from its first bytes.
//
// Everything here reads attacker-made input, so the work and memory spent on one file are
// bounded by Limits whatever the input claims: decompressed bytes per member and per file, the
// decompressed/compressed ratio (checked while streaming), nesting depth and members per
// archive. A member's name is cleaned into a relative slash path and only ever used for
// Member.Path; nothing here touches the host file system except the anonymous temp files that
// hold a zip found inside a compressed stream. See docs/design/unpack.md.
package unpack
