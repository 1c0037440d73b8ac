// Package aws collects the exposure inventory of an AWS organisation: who can reach its EBS
// snapshots, AMIs, RDS, Aurora, DocumentDB, Neptune and Redshift snapshots, what the Recycle Bin
// still holds, where images were exported, which DLM policies share future snapshots, the
// region guards (snapshot and AMI Block Public Access, EBS encryption by default) and who may
// decrypt with the keys of shared snapshots. It fills internal/inventory records; judging them is
// internal/posture's job.
//
// Collect is read-only: it makes Describe, Get, List and Head calls and the STS calls needed to
// assume the audit role, nothing else (a test proves it on the simulator's call log).
//
// It is built to stay cheap at 100k snapshots: public resources come from server-side filters,
// attribute calls are made only for resources AWS would let be shared, every listing asks for
// its largest page, and each service in each account+region runs under an adaptive (AIMD)
// bound on calls in flight that shrinks on throttling and grows on success, below
// Options.Concurrency. A scope that cannot be read becomes an inventory.ScopeError and Collect
// returns a non-nil error with the partial inventory: a failed region is never reported as an
// empty one.
//
// The call strategy, the minimum-calls reasoning and the IAM policy a user must grant are in
// docs/design/cloud-aws.md.
package aws
