// Package ebs reads EBS snapshots through the EBS direct API, block by block, without creating
// a volume: a Reader is an io.ReaderAt over one snapshot's bytes that the disk stack
// (internal/disk) parses like any image file.
//
// Reads are shaped for the API's limits (research/content-scanning.md §5.1): only blocks that
// ListSnapshotBlocks lists are fetched (the rest reads as zeros); blocks the file-system walker is
// about to read are prefetched in parallel (Prefetch), sorted by offset and deduplicated; one
// fetch per block at a time (singleflight); a bounded LRU keeps what was fetched; a token
// bucket per account and region keeps under the GetSnapshotBlock quota and lowers its rate when
// AWS throttles; every block's SHA-256 is checked; expired block tokens are refreshed by listing
// again.
//
// The package also registers the scan targets "ebs:SNAP_ID" and "ami:AMI_ID" (target.go), so
// that the CLI only blank-imports it.
package ebs
