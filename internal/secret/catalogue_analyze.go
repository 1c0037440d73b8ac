package secret

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// analysis is one analyzer run: the file, the severity of the signature (which the analyzer
// may lower or raise) and the evidence gathered so far (magic and regex put theirs first).
type analysis struct {
	path     string
	size     int64
	content  []byte // the head the signature reads (at most its read limit)
	severity Severity
	evidence map[string]any
}

func (a *analysis) set(k string, v any) {
	if a.evidence == nil {
		a.evidence = map[string]any{}
	}
	a.evidence[k] = v
}

// analyzer is a named content judge: fn reports whether the file is worth a finding, filling
// evidence. read is how many leading bytes it wants by default; head marks analyzers that judge
// a file by its head by design (a header, a schema page), which never report "truncated".
type analyzer struct {
	read int64
	fn   func(*analysis) bool
	head bool
}

// analyzers are what a signature may name with `analyzer = "..."`.
var analyzers map[string]*analyzer

func init() {
	analyzers = map[string]*analyzer{
		"shadow":             {read: 4 << 20, fn: analyzeShadow},
		"opasswd":            {read: 4 << 20, fn: analyzeOpasswd},
		"private-key":        {read: 256 << 10, fn: analyzePrivateKey},
		"authorized-keys":    {read: 1 << 20, fn: analyzeAuthorizedKeys},
		"aws":                {read: 1 << 20, fn: analyzeAWS},
		"kubeconfig":         {read: 4 << 20, fn: analyzeKubeconfig},
		"docker-config":      {read: 1 << 20, fn: analyzeDockerConfig},
		"netrc":              {read: 1 << 20, fn: analyzeNetrc},
		"pgpass":             {read: 1 << 20, fn: analyzePgpass},
		"url-credentials":    {read: 1 << 20, fn: analyzeURLCredentials},
		"history":            {read: 8 << 20, fn: analyzeHistory},
		"dotenv":             {read: 1 << 20, fn: analyzeDotenv},
		"unattend":           {read: 4 << 20, fn: analyzeUnattend},
		"connection-strings": {read: 4 << 20, fn: analyzeConnectionStrings},
		"cloud-init":         {read: 4 << 20, fn: analyzeCloudInit},
		"secrets":            {read: 8 << 20, fn: analyzeSecrets},
		"tfstate":            {read: 32 << 20, fn: analyzeTFState},
		"sqlite":             {read: 1 << 20, fn: analyzeSQLite, head: true},
		"keystore":           {read: 1 << 20, fn: analyzeKeystore, head: true},
		"gpg-key":            {read: 64 << 10, fn: analyzeGPGKey, head: true},
		"elf-core":           {read: 64, fn: analyzeELFCore, head: true},
		"azure-profile":      {read: 1 << 20, fn: analyzeAzureProfile},
		"azure-tokens":       {read: 16 << 20, fn: analyzeAzureTokens},
		"gcp-credentials":    {read: 1 << 20, fn: analyzeGCPCredentials},
		"maven-settings":     {read: 1 << 20, fn: analyzeMavenSettings},
		"rclone":             {read: 1 << 20, fn: analyzeRclone},
		"mysql-table":        {read: 64, fn: analyzeMySQLTable, head: true},
		"pg-control":         {read: 64, fn: analyzePGControl, head: true},
		"pg-authid":          {read: 4 << 20, fn: analyzePGAuthid},
		"registry-hive":      {read: 4096, fn: analyzeRegistryHive, head: true},
		"keepass":            {read: 64, fn: analyzeKeePass, head: true},
		"php-config":         {read: 1 << 20, fn: analyzePHPConfig},
		"sqlite-sensitive":   {read: 1 << 20, fn: analyzeSQLiteSensitive, head: true},
		"sqlite-logins":      {read: 4 << 20, fn: sqliteRows("logins"), head: true},
		"sqlite-cookies":     {read: 4 << 20, fn: sqliteRows("cookies", "moz_cookies"), head: true},
		"sqlite-nss-keys":    {read: 1 << 20, fn: sqliteRows("nssPrivate"), head: true},
		"sqlite-gcloud":      {read: 1 << 20, fn: sqliteRows("credentials", "access_tokens"), head: true},
	}
}

// Bounds on what analyzers collect, so that hostile content cannot inflate a finding.
const (
	maxEvidenceNames = 50  // names in one evidence list
	maxEvidenceName  = 128 // bytes of one name
	maxLines         = 1 << 20
)

// nameList collects distinct, printable, bounded names in first-seen order.
type nameList struct {
	names []string
	more  int // distinct names dropped over the cap
}

func (l *nameList) add(name string) {
	name = printableName(name)
	if name == "" || slices.Contains(l.names, name) {
		return
	}
	if len(l.names) >= maxEvidenceNames {
		l.more++
		return
	}
	l.names = append(l.names, name)
}

// sorted returns the names sorted (for sets such as algorithms), or nil when empty.
func (l *nameList) sorted() []string {
	if len(l.names) == 0 {
		return nil
	}
	out := slices.Clone(l.names)
	slices.Sort(out)
	return out
}

func (l *nameList) list() []string {
	if len(l.names) == 0 {
		return nil
	}
	return slices.Clone(l.names)
}

// printableName keeps a name only if it is short, valid UTF-8 without control characters, and
// not blank; longer names are cut at a character boundary.
func printableName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxEvidenceName {
		s = s[:maxEvidenceName]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	if !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}

// setList records a non-empty name list under k (and how many were left out).
func (a *analysis) setList(k string, l *nameList, sorted bool) {
	if len(l.names) == 0 {
		return
	}
	if sorted {
		a.set(k, l.sorted())
	} else {
		a.set(k, l.list())
	}
	if l.more > 0 {
		a.set(k+"_omitted", l.more)
	}
}

// forEachLine calls fn with each line (without its end) and its 1-based number, up to maxLines;
// fn returns false to stop.
func forEachLine(b []byte, fn func(line []byte, n int) bool) {
	for n := 1; len(b) > 0 && n <= maxLines; n++ {
		i := bytes.IndexByte(b, '\n')
		var line []byte
		if i < 0 {
			line, b = b, nil
		} else {
			line, b = b[:i], b[i+1:]
		}
		if !fn(bytes.TrimSuffix(line, []byte{'\r'}), n) {
			return
		}
	}
}

// isPlaceholder tells values that stand for a secret rather than being one: empty, template
// references, sample words, masks.
func isPlaceholder(v string) bool {
	v = strings.TrimSpace(v)
	v = strings.Trim(v, `"'`)
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	switch v[0] {
	case '$', '<', '%', '@':
		return true
	}
	if strings.HasPrefix(v, "{{") || strings.HasPrefix(v, "#{") {
		return true
	}
	lower := strings.ToLower(v)
	switch lower {
	case "password", "passwd", "pass", "secret", "token", "none", "null", "nil", "true", "false",
		"undefined", "empty", "changeme", "change_me", "test", "default", "required", "optional",
		"your_password", "mypassword", "example", "string", "value", "-", "n/a", "na", "tbd", "todo":
		return true
	}
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	same := true
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			same = false
			break
		}
	}
	return same && len(v) > 1
}

var placeholderWords = []string{
	"example", "changeme", "change_me", "change-me", "placeholder", "your_", "your-", "yourpass",
	"yoursecret", "yourtoken", "xxxx", "****", "redacted", "dummy", "replace_me", "replaceme",
	"_here", "-here", "<", ">", "${", "fixme", "todo", "sample", "notsecret", "not-a-secret",
	"sensitive*data*deleted", "put your", "unique phrase",
}
