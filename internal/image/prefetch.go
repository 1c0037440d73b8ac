package image

// Range is a run of bytes of a disk.
type Range struct {
	Off, Len int64
}

// Prefetcher is implemented by disk sources where each read is a network round trip (the EBS
// direct API reads 512 KiB blocks at 10–60 ms each). Told which ranges will be read soon, such a
// source fetches them in parallel, so that the readers above, which read one thing at a time,
// find them waiting. Prefetch must not block for long; ranges may be dropped when too many are
// already pending.
type Prefetcher interface {
	Prefetch(ranges []Range)
}
