// Package inventory holds the provider-neutral records that the AWS, Azure and GCP collectors fill
// and the posture checks read: snapshots and disks, machine images, who they are granted to, how
// they are encrypted and where they came from, the account and region guards around them, image
// export tasks, automatic share policies, and the organisation's trust boundary.
//
// The records are plain data. They say what the cloud reported, in the cloud's own words where a
// value has no neutral equivalent (a BPA state, an engine name), and leave judgement to
// internal/posture. A fact a collector could not establish stays at its zero value ("", Unknown)
// so that a check never mistakes "not read" for "absent".
//
// Memory: an audit may hold 100k+ snapshots, so records are values in slices, tags and grants are
// small slices rather than maps, and collectors should reuse (intern) the strings that repeat
// across records: provider, account, region, key ids.
package inventory
