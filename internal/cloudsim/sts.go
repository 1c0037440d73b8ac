package cloudsim

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// STS (awsQuery): GetCallerIdentity, and AssumeRole, which mints session credentials for the
// target account when the estate's role exists and trusts the caller.
func init() {
	register(&service{
		name: "sts", proto: protoQuery, xmlns: xmlnsSTS, global: true,
		actions:   map[string]handler{"GetCallerIdentity": stsGetCallerIdentity, "AssumeRole": stsAssumeRole},
		throttle:  errSpec{http.StatusBadRequest, "Throttling"},
		internal:  errSpec{http.StatusInternalServerError, "InternalFailure"},
		denied:    errSpec{http.StatusForbidden, "AccessDenied"},
		authFail:  errSpec{http.StatusForbidden, "InvalidClientTokenId"},
		notFoundA: "InvalidAction",
	})
}

func stsGetCallerIdentity(c *call) {
	x := c.queryBegin()
	x.strAlways("Arn", c.p.arn).strAlways("UserId", c.p.userID).strAlways("Account", c.p.account)
	c.queryEnd(x)
}

func stsAssumeRole(c *call) {
	roleARN, session := c.form.Get("RoleArn"), c.form.Get("RoleSessionName")
	if roleARN == "" || session == "" {
		c.fail(http.StatusBadRequest, "ValidationError", "RoleArn and RoleSessionName are required")
		return
	}
	deny := func() {
		c.fail(http.StatusForbidden, "AccessDenied", "User: "+c.p.arn+" is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	}
	// arn:aws:iam::ACCOUNT:role/PATH/NAME
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		c.fail(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '"+roleARN+"' at 'roleArn' failed to satisfy constraint")
		return
	}
	target := c.a.accounts[parts[4]]
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	if target == nil || target.roles[name] == nil {
		deny()
		return
	}
	role := target.roles[name]
	if !trusts(role, c.p) || (role.ExternalID != "" && c.form.Get("ExternalId") != role.ExternalID) {
		deny()
		return
	}
	dur := 3600
	if v := c.form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			c.fail(http.StatusBadRequest, "ValidationError", "DurationSeconds must be between 900 and 43200")
			return
		}
		if c.p.roleARN != "" && n > 3600 { // role chaining is capped at one hour
			c.fail(http.StatusBadRequest, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
			return
		}
		dur = n
	}
	canonical := "arn:aws:iam::" + target.id + ":role/" + name
	p := &principal{
		account: target.id,
		arn:     "arn:aws:sts::" + target.id + ":assumed-role/" + name + "/" + session,
		roleARN: canonical,
		token:   randToken(96),
		expires: c.a.opt.Now().Add(time.Duration(dur) * time.Second),
	}
	roleID := "AROA" + strings.ToUpper(shortHash(canonical, 17))
	p.userID = roleID + ":" + session
	keyID := "ASIA" + strings.ToUpper(randToken(12))[:16]
	secret := randToken(30)
	c.a.kmu.Lock()
	c.a.keys[keyID] = p
	c.a.kmu.Unlock()

	x := c.queryBegin()
	x.open("Credentials").strAlways("AccessKeyId", keyID).strAlways("SecretAccessKey", secret).
		strAlways("SessionToken", p.token).tm("Expiration", p.expires).end("Credentials")
	x.open("AssumedRoleUser").strAlways("AssumedRoleId", p.userID).strAlways("Arn", p.arn).end("AssumedRoleUser")
	c.queryEnd(x)
}

// trusts evaluates a role's trust list for a caller.
func trusts(r *Role, p *principal) bool {
	for _, t := range r.Trust {
		switch t {
		case "*", p.account, "arn:aws:iam::" + p.account + ":root", p.arn:
			return true
		}
		if p.roleARN != "" && t == p.roleARN {
			return true
		}
	}
	return false
}

func randToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	return strings.NewReplacer("-", "A", "_", "B").Replace(s)
}
