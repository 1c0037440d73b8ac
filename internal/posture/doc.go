// Package posture turns an inventory (internal/inventory) into findings: who can reach each
// snapshot, disk and image (public, shared outside the trust boundary, public but held back only
// by a guard), whether the share is usable (can the recipient decrypt it), how it is encrypted,
// whether it is stale or orphaned, where images were exported, which policies share future
// snapshots, and which account guards are off.
//
// It is provider-neutral logic over provider-neutral records; it knows providers only by name,
// for rule ids, compliance ids and remediation commands. It makes no calls. Check is a pure
// function of the inventory and the config: the same inventory in any record order gives the
// same findings, in the same order.
//
// The severity model and the checks table are in docs/design/posture.md; Checks() is the
// authoritative list.
package posture
