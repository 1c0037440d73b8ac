package ebs

// Stats say what a Reader did: how many blocks it fetched and why, and what the API made it do.
type Stats struct {
	Snapshot       string       `json:"snapshot"`
	WrittenBlocks  int          `json:"written_blocks"`         // listed by ListSnapshotBlocks: the most a full read fetches
	Fetched        int64        `json:"blocks_fetched"`         // GetSnapshotBlock calls that succeeded
	Bytes          int64        `json:"bytes_fetched"`          // their bytes
	Prefetched     int64        `json:"blocks_prefetched"`      // fetches started ahead of a read
	Demand         int64        `json:"blocks_fetched_on_read"` // fetches a read had to start itself
	CacheHits      int64        `json:"cache_hits"`
	WaitedInFlight int64        `json:"reads_waiting_on_fetch"` // reads that found their block already in flight
	ZeroReads      int64        `json:"unwritten_block_reads"`  // reads of blocks never written (no call)
	EvictedUnread  int64        `json:"prefetched_evicted_unread"`
	Dropped        int64        `json:"prefetch_dropped"` // queue full: left to be fetched on read
	Retries        int64        `json:"retries"`
	Throttled      int64        `json:"throttled"`
	ChecksumErrors int64        `json:"checksum_mismatches"`
	Relists        int64        `json:"token_refreshes"`
	ListCalls      int64        `json:"list_calls"`
	Limiter        LimiterStats `json:"limiter"`
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats {
	return Stats{
		Snapshot: r.snap, WrittenBlocks: r.Written(),
		Fetched: r.st.fetched.Load(), Bytes: r.st.bytes.Load(), Prefetched: r.st.prefetched.Load(),
		Demand: r.st.demand.Load(), CacheHits: r.st.hits.Load(), WaitedInFlight: r.st.waited.Load(),
		ZeroReads: r.st.zeros.Load(), EvictedUnread: r.st.evictedUnread.Load(), Dropped: r.st.dropped.Load(),
		Retries: r.st.retries.Load(), Throttled: r.st.throttled.Load(), ChecksumErrors: r.st.badSums.Load(),
		Relists: r.st.relists.Load(), ListCalls: r.st.listCalls.Load(), Limiter: r.lim.Stats(),
	}
}
