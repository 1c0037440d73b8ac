package secret

// checkFunc validates a candidate against the structure its secret must have, and may move its
// span (e.g. from a PEM header to the whole block), lower its severity (an encrypted key) or add
// context. data is the whole input, since a structure can reach past the search window.
type checkFunc func(data []byte, c *candidate) bool

// checks are the validators a rule may name with `check = "..."`.
var checks = map[string]checkFunc{
	"pem":                 checkPEM,
	"putty":               checkPuTTY,
	"jwt":                 checkJWT,
	"gcp-service-account": checkGCPServiceAccount,
	"basic-auth":          checkBasicAuth,
}

// encryptedSeverity is the most a passphrase-protected key is rated: offline guessing is still
// possible, but the key is not usable as found.
const encryptedSeverity = Medium

func markEncrypted(c *candidate) {
	c.encrypted = true
	c.severity = min(c.severity, encryptedSeverity)
}
