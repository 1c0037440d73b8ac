package secret

import (
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
)

// analyzeNetrc reads .netrc / _netrc: machine, login, password, account tokens; macdef bodies
// (up to a blank line) are skipped. Only entries with a real password count.
func analyzeNetrc(a *analysis) bool {
	var toks []string
	inMacro := false
	forEachLine(a.content, func(line []byte, _ int) bool {
		if inMacro {
			inMacro = len(bytes.TrimSpace(line)) > 0
			return true
		}
		for _, f := range strings.Fields(string(line)) {
			if strings.HasPrefix(f, "#") {
				break
			}
			if f == "macdef" {
				inMacro = true
				break
			}
			toks = append(toks, f)
		}
		return len(toks) < 1<<16
	})
	var hosts, logins nameList
	entries := 0
	host, login, pw := "", "", ""
	flush := func() {
		if host != "" && pw != "" && !isPlaceholder(pw) {
			entries++
			hosts.add(host)
			logins.add(login)
		}
		host, login, pw = "", "", ""
	}
	for i := 0; i < len(toks); i++ {
		next := ""
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		switch toks[i] {
		case "machine":
			flush()
			host = next
			i++
		case "default":
			flush()
			host = "default"
		case "login":
			login = next
			i++
		case "password", "passwd":
			pw = next
			i++
		case "account":
			i++
		}
	}
	flush()
	if entries == 0 {
		return false
	}
	a.set("entries_with_password", entries)
	a.setList("machines", &hosts, true)
	a.setList("logins", &logins, true)
	return true
}

// analyzePgpass reads a libpq password file: host:port:database:user:password lines (\: and \\
// escaped).
func analyzePgpass(a *analysis) bool {
	var targets, users nameList
	entries := 0
	forEachLine(a.content, func(line []byte, _ int) bool {
		if len(line) == 0 || line[0] == '#' {
			return true
		}
		var fields []string
		var cur []byte
		for i := 0; i < len(line); i++ {
			switch {
			case line[i] == '\\' && i+1 < len(line):
				i++
				cur = append(cur, line[i])
			case line[i] == ':' && len(fields) < 4:
				fields = append(fields, string(cur))
				cur = cur[:0]
			default:
				cur = append(cur, line[i])
			}
		}
		fields = append(fields, string(cur))
		if len(fields) != 5 || isPlaceholder(fields[4]) {
			return true
		}
		entries++
		targets.add(fields[0] + ":" + fields[1] + "/" + fields[2])
		users.add(fields[3])
		return true
	})
	if entries == 0 {
		return false
	}
	a.set("entries", entries)
	a.setList("targets", &targets, false)
	a.setList("users", &users, true)
	return true
}

var urlWithCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]{0,20})://([^\s:/@]{0,256}):([^\s@/]{1,1000})@([^\s/:?#]{1,256})`)

// analyzeURLCredentials reads a git credential store: one scheme://user:password@host per line.
func analyzeURLCredentials(a *analysis) bool {
	var hosts, users nameList
	entries := 0
	for _, m := range urlWithCredentials.FindAllSubmatch(a.content, 10000) {
		if isPlaceholder(string(m[3])) {
			continue
		}
		entries++
		hosts.add(string(m[4]))
		users.add(string(m[2]))
	}
	if entries == 0 {
		return false
	}
	a.set("entries", entries)
	a.setList("hosts", &hosts, true)
	a.setList("users", &users, true)
	return true
}

var (
	// KEY=value (.env, .properties) or key: value (YAML: the leaf key names the value).
	dotenvLine = regexp.MustCompile(`^\s*(?:export\s+|-\s+)?([A-Za-z_][A-Za-z0-9_.-]{0,127})\s*(?:=|:\s)\s*(.*)$`)
	// Names that hold secrets, and name endings that say the value is about a secret, not one.
	dotenvSecretName   = regexp.MustCompile(`(?i)(?:passw(?:or)?d|_pwd$|^pwd_|secret|token|api_?key|access_?key|private_?key|credential|auth_?key|client_?key|signing_?key|encryption_?key|master_?key|app_?key|_dsn$|^dsn$|connection_?string|conn_?str|_salt$|^salt$|webhook)`)
	dotenvAboutASecret = regexp.MustCompile(`(?i)(?:_id|_name|_path|_file|_type|_url|_uri|_host|_port|_user|_username|_region|_header|_expiry|_expires|_ttl|_length|_len|_min|_max|_policy|_enabled|_required|_reset|_algorithm|_version|_prefix|_cookie_name)$`)
)

// analyzeDotenv reads a .env file (or Java properties, or YAML key: value lines): variables whose
// names say they hold a secret and whose
// values are not placeholders, variables whose value is a URL with a password, and values that
// a secret rule recognises whatever the name. Names are reported, values never.
func analyzeDotenv(a *analysis) bool {
	var names nameList
	count, vars := 0, 0
	lines := map[int]bool{}
	forEachLine(a.content, func(line []byte, n int) bool {
		m := dotenvLine.FindSubmatch(line)
		if m == nil {
			return true
		}
		vars++
		name, value := string(m[1]), dotenvValue(string(m[2]))
		secretName := dotenvSecretName.MatchString(name) && !dotenvAboutASecret.MatchString(name)
		credURL := urlWithCredentials.MatchString(value)
		if (secretName || credURL) && !isPlaceholder(value) && !strings.HasPrefix(value, "/") {
			count++
			names.add(name)
			lines[n] = true
		}
		return true
	})
	var rules nameList
	for _, m := range secretLines(a.path, a.content, 256<<10) {
		if !lines[m.Line] {
			lines[m.Line] = true
			count++
			rules.add(m.RuleID)
		}
	}
	if count == 0 {
		return false
	}
	a.set("secret_variables", count)
	a.setList("names", &names, false)
	a.setList("secret_rules", &rules, true)
	a.set("variables", vars)
	return true
}

// dotenvValue strips quotes, or an inline comment from an unquoted value.
func dotenvValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : 1+end]
		}
		return v[1:]
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

var (
	csAttr        = regexp.MustCompile(`(?i)\bconnectionString\s*=\s*"([^"]*)"`)
	csJSONBlock   = regexp.MustCompile(`(?is)"ConnectionStrings"\s*:\s*\{([^}]*)\}`)
	csJSONValue   = regexp.MustCompile(`"([^"]{1,256})"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	csPassword    = regexp.MustCompile(`(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*([^;]*)`)
	csName        = regexp.MustCompile(`(?i)\bname\s*=\s*"([^"]{1,256})"`)
	appSetting    = regexp.MustCompile(`(?i)<add\s+key\s*=\s*"([^"]{0,256}(?:password|passwd|secret|apikey|api_key|token|pwd|clientsecret|accesskey)[^"]{0,256})"\s+value\s*=\s*"([^"]+)"`)
	passwordAttr  = regexp.MustCompile(`(?i)<(identity|network|credentials|user|add|processModel)\b[^>]{0,1000}?\bpassword\s*=\s*"([^"]{1,1000})"`)
	machineKeyRaw = regexp.MustCompile(`(?i)<machineKey\b[^>]{0,1000}?\b(?:validationKey|decryptionKey)\s*=\s*"([0-9A-F]{16,})"`)
)

// analyzeConnectionStrings reads .NET configuration (web.config, app.config, *.exe.config,
// appsettings*.json): connection strings that carry a password, appSettings whose key names a
// secret, password attributes (identity impersonation, SMTP network credentials), and explicit
// ASP.NET machine keys (which let anyone forge view state: remote code execution).
func analyzeConnectionStrings(a *analysis) bool {
	c := a.content
	var names, settings nameList
	withPassword := 0
	for _, m := range csAttr.FindAllSubmatchIndex(c, 10000) {
		value := c[m[2]:m[3]]
		pm := csPassword.FindSubmatch(value)
		if pm == nil || isPlaceholder(string(pm[1])) {
			continue
		}
		withPassword++
		start := bytes.LastIndexByte(c[:m[0]], '<')
		end := bytes.IndexByte(c[m[1]:], '>')
		if start >= 0 && end >= 0 {
			if nm := csName.FindSubmatch(c[start : m[1]+end]); nm != nil {
				names.add(string(nm[1]))
			}
		}
	}
	for _, block := range csJSONBlock.FindAllSubmatch(c, 100) {
		for _, kv := range csJSONValue.FindAllSubmatch(block[1], 1000) {
			if pm := csPassword.FindSubmatch(kv[2]); pm != nil && !isPlaceholder(string(pm[1])) {
				withPassword++
				names.add(string(kv[1]))
			}
		}
	}
	for _, m := range appSetting.FindAllSubmatch(c, 1000) {
		if !isPlaceholder(string(m[2])) {
			settings.add(string(m[1]))
		}
	}
	attrs := 0
	for _, m := range passwordAttr.FindAllSubmatch(c, 1000) {
		if !isPlaceholder(string(m[2])) && !bytes.EqualFold(m[1], []byte("add")) {
			attrs++
		}
	}
	machineKey := machineKeyRaw.Match(c)
	if withPassword == 0 && len(settings.names) == 0 && attrs == 0 && !machineKey {
		return false
	}
	if withPassword > 0 {
		a.set("connection_strings_with_password", withPassword)
		a.setList("connection_string_names", &names, true)
	}
	a.setList("app_settings", &settings, true)
	if attrs > 0 {
		a.set("password_attributes", attrs)
	}
	if machineKey {
		a.set("machine_key", true)
		a.severity = max(a.severity, Critical)
	}
	return true
}

var (
	xmlComment    = regexp.MustCompile(`(?s)<!--.*?-->`)
	mavenServer   = regexp.MustCompile(`(?s)<server>(.*?)</server>`)
	mavenID       = regexp.MustCompile(`<id>\s*([^<]{1,256}?)\s*</id>`)
	mavenPassword = regexp.MustCompile(`<(password|passphrase)>\s*([^<]+?)\s*</(?:password|passphrase)>`)
)

// analyzeMavenSettings reads Maven settings.xml (comments stripped: the shipped default is all
// commented examples): <server> entries with a password or key passphrase. Values in braces are
// encrypted with the master password of settings-security.xml (itself a catalogue entry).
func analyzeMavenSettings(a *analysis) bool {
	c := xmlComment.ReplaceAll(a.content, nil)
	var servers nameList
	passwords, encrypted := 0, 0
	for _, s := range mavenServer.FindAllSubmatch(c, 1000) {
		found := false
		for _, p := range mavenPassword.FindAllSubmatch(s[1], 10) {
			v := string(p[2])
			if isPlaceholder(v) {
				continue
			}
			passwords++
			found = true
			if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
				encrypted++
			}
		}
		if found {
			if id := mavenID.FindSubmatch(s[1]); id != nil {
				servers.add(string(id[1]))
			}
		}
	}
	if passwords == 0 {
		return false
	}
	a.set("passwords", passwords)
	a.setList("servers", &servers, true)
	if encrypted > 0 {
		a.set("encrypted", encrypted)
	}
	if encrypted == passwords {
		a.severity = min(a.severity, Medium)
	}
	return true
}

// analyzeSecrets runs the secret rules over the file and reports it when they find anything:
// for files that are not credentials by nature but often carry some (provisioning logs).
func analyzeSecrets(a *analysis) bool {
	ms := secretLines(a.path, a.content, 4<<20)
	if len(ms) == 0 {
		return false
	}
	recordSecrets(a, ms)
	return true
}

// secretLines scans the first limit bytes with the default rules, keeping matches with a line
// (not path-only rules). The limit bounds the cost of content dense with keywords, which the
// rules handle at a few MB/s; the analyzers' own patterns cover the rest of the file.
func secretLines(p string, content []byte, limit int) []Match {
	ms := Default().Scan(strings.TrimPrefix(p, "/"), content[:min(len(content), limit)])
	kept := ms[:0]
	for _, m := range ms {
		if m.Line > 0 {
			kept = append(kept, m)
		}
	}
	return kept
}

func recordSecrets(a *analysis, ms []Match) {
	var rules nameList
	var lines []int
	best := Info
	for _, m := range ms {
		rules.add(m.RuleID)
		if len(lines) < 20 && !slices.Contains(lines, m.Line) {
			lines = append(lines, m.Line)
		}
		best = max(best, m.Severity)
	}
	a.set("secrets", len(ms))
	a.setList("secret_rules", &rules, true)
	a.set("lines", lines)
	a.severity = max(a.severity, best)
}

var (
	cloudInitPlain  = regexp.MustCompile(`(?m)^[ \t]*-?[ \t]*(password|plain_text_passwd|root_password|admin_password)[ \t]*:[ \t]*(\S.*)$`)
	cloudInitHashed = regexp.MustCompile(`(?m)^[ \t]*-?[ \t]*(passwd|hashed_passwd)[ \t]*:[ \t]*(\S.*)$`)
	cloudInitChpw   = regexp.MustCompile(`(?m)^[ \t]*chpasswd[ \t]*:[ \t]*(?:\{[^}\n]*\blist\b|\n[ \t]+(?:list|users)[ \t]*:)`)
	cloudInitHostKy = regexp.MustCompile(`(?m)^[ \t]*(?:rsa|dsa|ecdsa|ed25519)_private[ \t]*:`)
)

// analyzeCloudInit reads cloud-init user data, vendor data and configuration: passwords set by
// the users/chpasswd modules (plain or hashed), SSH host private keys, and anything the secret
// rules find. User data itself (a bootstrap script or #cloud-config) is reported as info when
// it holds nothing of that, since it is where bootstrap secrets usually are; other cloud-init
// files only when they hold something. Gzipped user data is expanded (bounded).
func analyzeCloudInit(a *analysis) bool {
	c := a.content
	if len(c) > 2 && c[0] == 0x1f && c[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(c)); err == nil {
			if dec, err := io.ReadAll(io.LimitReader(zr, 8<<20)); err == nil || len(dec) > 0 {
				c = dec
				a.set("compressed", true)
			}
		}
	}
	var plain, hashed nameList
	for _, m := range cloudInitPlain.FindAllSubmatch(c, 1000) {
		if !isPlaceholder(string(m[2])) {
			plain.add(string(m[1]))
		}
	}
	for _, m := range cloudInitHashed.FindAllSubmatch(c, 1000) {
		v := strings.Trim(strings.TrimSpace(string(m[2])), `"'`)
		if hashAlgorithm([]byte(v)) != "" || !isPlaceholder(v) {
			hashed.add(string(m[1]))
		}
	}
	if cloudInitChpw.Match(c) {
		plain.add("chpasswd")
	}
	hostKeys := cloudInitHostKy.Match(c)
	ms := secretLines(a.path, c, 1<<20)
	if len(ms) > 0 {
		recordSecrets(a, ms)
	}
	a.setList("password_keys", &plain, true)
	a.setList("hashed_password_keys", &hashed, true)
	if hostKeys {
		a.set("ssh_host_private_keys", true)
	}
	switch {
	case len(ms) > 0 || hostKeys:
		a.severity = max(a.severity, Critical)
	case len(plain.names) > 0:
		a.severity = max(a.severity, High)
	case len(hashed.names) > 0:
		a.severity = max(a.severity, Medium)
	default:
		base := path.Base(a.path)
		userData := strings.HasPrefix(base, "user-data") || strings.Contains(a.path, "/scripts/")
		if !userData || len(bytes.TrimSpace(c)) == 0 {
			return false
		}
		a.severity = Info
		switch {
		case bytes.HasPrefix(c, []byte("#cloud-config")):
			a.set("kind", "cloud-config")
		case bytes.HasPrefix(c, []byte("#!")):
			a.set("kind", "script")
		case bytes.HasPrefix(c, []byte("Content-Type: multipart")):
			a.set("kind", "multipart")
		}
	}
	a.set("bytes", len(c))
	return true
}

var (
	tfSecretAttr  = regexp.MustCompile(`"([a-z0-9_]{0,64}(?:password|secret|private_key|access_key|token|connection_string|sas|api_key|client_key|kube_config|kubeconfig|credentials|primary_key|secondary_key|master_key|auth_key|private_key_pem)[a-z0-9_]{0,64})"\s*:\s*"((?:[^"\\]|\\.){4,})"`)
	tfAboutSecret = regexp.MustCompile(`(?:_id|_ids|_arn|_name|_version|_length|_type|_policy|_enabled|_count|_url|_uri|_path|_file|_expiry|_expiration|_rotation|_hash|_sha1|_sha256|_algorithm|_ttl|_mode|_kind|_format|_prefix|_endpoint)$`)
	tfResource    = regexp.MustCompile(`"mode"\s*:\s*"managed"`)
	tfVersion     = regexp.MustCompile(`"terraform_version"\s*:\s*"([0-9][0-9A-Za-z.+-]{0,31})"`)
)

// analyzeTFState reads a Terraform state: managed resources, and attributes whose names say they
// hold secrets (passwords, keys, tokens; Terraform stores them in clear). A state is reported
// even without such attributes: it maps the infrastructure.
func analyzeTFState(a *analysis) bool {
	c := a.content
	v := tfVersion.FindSubmatch(c)
	if v == nil && !bytes.Contains(c[:min(len(c), 4096)], []byte(`"lineage"`)) {
		return false
	}
	var attrs nameList
	n := 0
	for _, m := range tfSecretAttr.FindAllSubmatch(c, 100000) {
		name := string(m[1])
		if tfAboutSecret.MatchString(name) || isPlaceholder(string(m[2])) {
			continue
		}
		n++
		attrs.add(name)
	}
	if v != nil {
		a.set("terraform_version", string(v[1]))
	}
	a.set("resources", len(tfResource.FindAllIndex(c, 1000000)))
	if n == 0 {
		a.severity = min(a.severity, Medium)
		return true
	}
	a.set("secret_attributes", n)
	a.setList("attribute_names", &attrs, true)
	return true
}

// phpSecretAssignments are the ways PHP applications write their database password and
// secret keys in configuration code: group 1 names the setting, group 2 is the value.
var phpSecretAssignments = []*regexp.Regexp{
	regexp.MustCompile(`define\(\s*['"](DB_PASSWORD|AUTH_KEY|SECURE_AUTH_KEY|LOGGED_IN_KEY|NONCE_KEY|AUTH_SALT|SECURE_AUTH_SALT|LOGGED_IN_SALT|NONCE_SALT)['"]\s*,\s*['"]([^'"]*)['"]`),
	regexp.MustCompile(`\$(wgDBpassword|wgSecretKey|wgUpgradeKey|wgDBadminpassword)\s*=\s*['"]([^'"]*)['"]`),
	regexp.MustCompile(`['"](password|dbpassword|secret|passwordsalt|hash_salt|key)['"]\s*=>\s*['"]([^'"]*)['"]`),
	regexp.MustCompile(`public\s+\$(password|secret|smtppass|ftp_pass|dbpassword)\s*=\s*['"]([^'"]*)['"]`),
	regexp.MustCompile(`\$cfg\['Servers'\]\[\$i\]\['(password|controlpass)'\]\s*=\s*['"]([^'"]*)['"]`),
	regexp.MustCompile(`\$cfg\['(blowfish_secret)'\]\s*=\s*['"]([^'"]*)['"]`),
	regexp.MustCompile(`(?i)\$((?:db_?|database_|mysql_|sql_)?pass(?:word|wd)?)\s*=\s*['"]([^'"]*)['"]`),
}

// analyzePHPConfig reads PHP application configuration (WordPress wp-config.php, MediaWiki
// LocalSettings.php, Drupal settings.php, Joomla configuration.php, phpMyAdmin config.inc.php,
// Magento env.php, Nextcloud config.php): literal database passwords and secret keys or salts.
// Values read from the environment (getenv(), env()) are code, not literals, and do not count.
func analyzePHPConfig(a *analysis) bool {
	var names nameList
	passwords, keys := 0, 0
	for _, re := range phpSecretAssignments {
		for _, m := range re.FindAllSubmatch(a.content, 1000) {
			name, value := string(m[1]), string(m[2])
			if isPlaceholder(value) || len(value) < 3 {
				continue
			}
			lower := strings.ToLower(name)
			if strings.Contains(lower, "pass") {
				passwords++
			} else {
				keys++
			}
			names.add(name)
		}
	}
	if passwords == 0 && keys == 0 {
		return false
	}
	if passwords > 0 {
		a.set("passwords", passwords)
	}
	if keys > 0 {
		a.set("secret_keys", keys)
	}
	a.setList("names", &names, false)
	if passwords == 0 {
		a.severity = min(a.severity, High) // salts and keys forge sessions; no database login
	}
	return true
}
