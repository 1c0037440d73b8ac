package secret

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// historyPattern is one way a secret gets typed on a command line. value picks the secret from
// the submatches (the first non-empty group); afterColon keeps what follows "user:".
type historyPattern struct {
	kind       string
	hints      []string // lower-case; the line must contain one before the regex runs
	re         *regexp.Regexp
	afterColon bool
}

// Quoted or bare argument: '…', "…" or a word not starting with a quote, $ or -.
const histArg = `(?:'([^']+)'|"([^"]+)"|([^\s'"$-][^\s]*))`

var historyPatterns = []historyPattern{
	{kind: "mysql-password", hints: []string{"mysql", "mariadb"}, re: regexp.MustCompile(`(?i)\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh|mariadb|mariadb-dump)\b[^|;&]*?\s(?:-p(?:'([^']+)'|"([^"]+)"|([^\s'"$-][^\s]*))|--password=` + histArg + `)`)},
	{kind: "secret-variable", hints: []string{"pass", "pwd", "secret", "token", "key", "credential"}, re: regexp.MustCompile(`\b([A-Z][A-Z0-9_]*(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS)[A-Z0-9_]*)=(?:'([^']+)'|"([^"]+)"|([^\s'"$][^\s;&|]*))`)},
	{kind: "powershell-env-secret", hints: []string{"$env:"}, re: regexp.MustCompile(`(?i)\$env:[A-Za-z0-9_]*(?:password|passwd|pwd|secret|token|apikey|api_key|access_key|private_key)[A-Za-z0-9_]*\s*=\s*(?:'([^'$]+)'|"([^"$]+)")`)},
	{kind: "curl-credentials", hints: []string{"-u", "--user"}, re: regexp.MustCompile(`(?i)\b(?:curl|wget|http|https|xh|httpie)\b[^|;&]*?\s(?:-u\s*|--user[= ]\s*)(?:'([^']*:[^']+)'|"([^"]*:[^"]+)"|([^\s'"$-][^\s'"]*:\S+))`), afterColon: true},
	{kind: "authorization-header", hints: []string{"-h", "--header"}, re: regexp.MustCompile(`(?i)(?:-H|--header)\s*['"]?(?:Authorization|X-API-Key|X-Api-Token|Private-Token|X-Auth-Token|X-Vault-Token)\s*:\s*(?:(?:Bearer|Basic|token|Token|Digest)\s+)?([^'"\s$]{8,})`)},
	{kind: "sshpass", hints: []string{"sshpass"}, re: regexp.MustCompile(`\bsshpass\b(?:\s+-[^p\s]\S*)*\s+-p\s*` + histArg)},
	{kind: "url-credentials", hints: []string{"://"}, re: regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]{0,20}://[^\s:/@'"]{1,256}:([^\s@/'"$]{1,1000})@[^\s/:?#'"]{1,256}`)},
	{kind: "password-option", hints: []string{"pass", "pwd", "secret", "key", "token"}, re: regexp.MustCompile(`(?i)(?:^|\s)--?(?:password|passwd|pass|pwd|db-password|admin-password|http-password|ftp-password|proxy-password|client-secret|secret-key|secret|api-key|apikey|access-token|auth-token)(?:=|\s+)` + histArg)},
	{kind: "openssl-passphrase", hints: []string{"pass:"}, re: regexp.MustCompile(`(?i)\s-pass(?:in|out|word)?\s+pass:(\S+)`)},
	{kind: "docker-login", hints: []string{"login"}, re: regexp.MustCompile(`(?i)\b(?:docker|podman|nerdctl|buildah|skopeo|oras|helm\s+registry)\s+login\b[^|;&]*?\s-p\s*` + histArg)},
	{kind: "redis-password", hints: []string{"redis-cli"}, re: regexp.MustCompile(`\bredis-cli\b[^|;&]*?\s-a\s+` + histArg)},
	{kind: "mongo-password", hints: []string{"mongo"}, re: regexp.MustCompile(`\b(?:mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)\b[^|;&]*?\s-p\s*` + histArg)},
	{kind: "chpasswd", hints: []string{"chpasswd"}, re: regexp.MustCompile(`(?i)\becho\s+(?:-e\s+)?['"]?([^\s'":|]+:[^\s'"|]+)['"]?\s*\|\s*(?:sudo\s+)?chpasswd`), afterColon: true},
	{kind: "passwd-stdin", hints: []string{"--stdin"}, re: regexp.MustCompile(`(?i)\becho\s+(?:-e\s+)?(?:'([^']+)'|"([^"]+)"|([^\s'"|$]+))\s*\|\s*(?:sudo\s+)?passwd\b[^|;&]*--stdin`)},
	{kind: "net-user", hints: []string{"net user"}, re: regexp.MustCompile(`(?i)\bnet\s+user\s+\S+\s+([^\s/*]\S*)\s+/add`)},
	{kind: "htpasswd", hints: []string{"htpasswd"}, re: regexp.MustCompile(`\bhtpasswd\s+-\w*b\w*\s+\S+\s+\S+\s+` + histArg)},
	{kind: "useradd-hash", hints: []string{"useradd", "usermod", "adduser"}, re: regexp.MustCompile(`\b(?:useradd|usermod|adduser)\b[^|;&]*?\s-p\s+` + histArg)},
	{kind: "sql-password", hints: []string{"identified"}, re: regexp.MustCompile(`(?i)\bidentified\s+(?:with\s+\S+\s+)?by\s+(?:password\s+)?['"]([^'"]+)['"]`)},
	{kind: "sql-password", hints: []string{"password"}, re: regexp.MustCompile(`(?i)\bpassword\s*(?:=\s*)?(?:password\s*\(\s*)?['"]([^'"]{2,})['"]`)},
	{kind: "mongo-password", hints: []string{"pwd"}, re: regexp.MustCompile(`(?i)\bpwd\s*:\s*['"]([^'"]+)['"]`)},
	{kind: "powershell-securestring", hints: []string{"securestring"}, re: regexp.MustCompile(`(?i)ConvertTo-SecureString\s+(?:-String\s+)?['"]([^'"$]+)['"][^|;]*-AsPlainText`)},
	{kind: "cmdkey", hints: []string{"cmdkey"}, re: regexp.MustCompile(`(?i)\bcmdkey\b[^|;&]*?/pass:(?:"([^"]+)"|([^\s"]+))`)},
	{kind: "aws-configure-set", hints: []string{"configure"}, re: regexp.MustCompile(`(?i)\baws\s+configure\s+set\s+(?:\S+\.)?aws_(?:secret_access_key|session_token)\s+` + histArg)},
}

// historyHints: a line mentions none of these → no pattern can match it (checked lower-case).
var historyHints = func() []string {
	var out []string
	for _, p := range historyPatterns {
		for _, h := range p.hints {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	return out
}()

var zshExtended = regexp.MustCompile(`^: \d+:\d+;`)

// maxHistoryLines and maxHistoryBytes bound the lines the patterns are tried on (those
// mentioning a hint); a history with more is judged on its first ones and says so.
const (
	maxHistoryLines = 50000
	maxHistoryBytes = 2 << 20
)

// analyzeHistory reads a shell, database-client, REPL or PowerShell history and reports it only
// when commands in it carry secrets: passwords given as options or environment variables,
// credentials in URLs and curl -u, sshpass -p, echo … | chpasswd, SQL "IDENTIFIED BY '…'", and
// tokens the secret rules recognise. It counts the lines and names the kinds; no value is kept.
func analyzeHistory(a *analysis) bool {
	kinds := nameList{}
	var lines []int
	counted := map[int]bool{}
	var low []byte
	examined, examinedBytes := 0, 0
	forEachLine(a.content, func(line []byte, n int) bool {
		if len(line) > 64<<10 {
			line = line[:64<<10]
		}
		if bytes.Contains(line, []byte(`\040`)) { // mysql/sqlite history escape spaces
			line = bytes.ReplaceAll(line, []byte(`\040`), []byte(" "))
		}
		line = zshExtended.ReplaceAll(line, nil)
		low = appendLowerBytes(low[:0], line)
		if !containsAny(low, historyHints) {
			return true
		}
		examined++
		if examinedBytes += len(line); examined > maxHistoryLines || examinedBytes > maxHistoryBytes {
			a.set("lines_examined", examined-1)
			return false
		}
		for _, p := range historyPatterns {
			if !containsAny(low, p.hints) {
				continue
			}
			if k := matchHistory(p, line); k != "" {
				kinds.add(k)
				if !counted[n] {
					counted[n] = true
					if len(lines) < 20 {
						lines = append(lines, n)
					}
				}
			}
		}
		return true
	})
	var rules nameList
	for _, m := range secretLines(a.path, a.content, 1<<20) {
		rules.add(m.RuleID)
		if !counted[m.Line] {
			counted[m.Line] = true
			if len(lines) < 20 {
				lines = append(lines, m.Line)
			}
		}
	}
	if len(counted) == 0 {
		return false
	}
	a.set("secret_commands", len(counted))
	a.setList("kinds", &kinds, true)
	a.setList("secret_rules", &rules, true)
	a.set("lines", lines)
	return true
}

// matchHistory returns the pattern's kind when it matches line with a real value.
func matchHistory(p historyPattern, line []byte) string {
	for _, m := range p.re.FindAllSubmatch(line, 8) {
		var value, name string
		for i := 1; i < len(m); i++ {
			if len(m[i]) == 0 {
				continue
			}
			if p.kind == "secret-variable" && i == 1 {
				name = string(m[i])
				continue
			}
			value = string(m[i])
			break
		}
		if p.afterColon {
			_, value, _ = strings.Cut(value, ":")
		}
		if isPlaceholder(value) || strings.HasPrefix(value, "/") && p.kind == "secret-variable" {
			continue
		}
		if p.kind != "secret-variable" {
			return p.kind
		}
		switch {
		case name == "PWD" || name == "OLDPWD" || dotenvAboutASecret.MatchString(name):
			continue
		case name == "PGPASSWORD":
			return "pgpassword"
		case name == "MYSQL_PWD":
			return "mysql-password"
		case strings.HasPrefix(name, "AWS_SECRET") || name == "AWS_SESSION_TOKEN":
			return "aws-secret-export"
		}
		return "secret-variable"
	}
	return ""
}

func containsAny(b []byte, words []string) bool {
	for _, w := range words {
		if bytes.Contains(b, []byte(w)) {
			return true
		}
	}
	return false
}

func appendLowerBytes(dst, s []byte) []byte {
	for _, c := range s {
		dst = append(dst, lowerASCII(c))
	}
	return dst
}
