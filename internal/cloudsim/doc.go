// Package cloudsim is a simulated AWS for tests, benches and the demo: one HTTP server on
// 127.0.0.1 answering EC2, EBS direct, RDS, Redshift, STS, Organizations, KMS, DLM, Recycle Bin
// and S3 in their real wire protocols, so the official SDK clients run against it unchanged.
// It serves an Estate (accounts, regions, snapshots, images, shares, guards, keys, disk images
// as snapshot contents), records every call, and injects latency, throttling and failures.
// docs/design/cloudsim.md describes the architecture, the estate schema and the wire formats.
package cloudsim
