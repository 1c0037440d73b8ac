// Package secret is the detection core of the content scanner: it finds credentials in bytes.
//
// Rules are data (gitleaks-compatible TOML with a few snapwatch fields, embedded from rules/ and
// extensible by users' files). A Scanner compiles them once. Scan runs one case-insensitive keyword
// pass (an Aho-Corasick DFA, see internal/keyword) over the input, runs the regular expression of
// each rule only in small windows around its keywords' hits, then filters candidates by entropy,
// structural checks (PEM, OpenSSH, PGP, JWT, GCP service-account JSON), allow-lists and stopwords,
// pairs companion secrets (an AWS key id with its secret key) and reports each secret once.
//
// The package knows nothing of disks or files: callers give it a path (for path-scoped rules and
// allow-lists) and bytes. See docs/design/secret.md.
package secret
