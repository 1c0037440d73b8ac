package secret

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
	"unicode/utf16"
)

// hashState classifies the password field of a shadow-style line.
type hashState int

const (
	noHash     hashState = iota // "", "x", "*", "!", "!!", "*LK*", "NP": no password material
	emptyHash                   // "": no password needed at all
	liveHash                    // a hash that logs in
	lockedHash                  // "!$6$…": locked, but the hash is still there to crack
)

// classifyHash names the crypt(3) scheme of a password field (man 5 crypt) without keeping it.
func classifyHash(field []byte) (algo string, st hashState) {
	if len(field) == 0 {
		return "", emptyHash
	}
	locked := false
	for len(field) > 0 && field[0] == '!' {
		field, locked = field[1:], true
	}
	if bytes.HasPrefix(field, []byte("*LK*")) {
		field, locked = field[4:], true
	}
	algo = hashAlgorithm(field)
	switch {
	case algo == "":
		return "", noHash
	case locked:
		return algo, lockedHash
	}
	return algo, liveHash
}

var cryptIDs = map[string]string{
	"1": "md5crypt", "2": "bcrypt", "2a": "bcrypt", "2b": "bcrypt", "2x": "bcrypt", "2y": "bcrypt",
	"3": "nthash", "5": "sha256crypt", "6": "sha512crypt", "7": "scrypt", "y": "yescrypt",
	"gy": "gost-yescrypt", "sha1": "sha1crypt", "md5": "sunmd5", "apr1": "apr1-md5",
	"argon2i": "argon2", "argon2d": "argon2", "argon2id": "argon2",
	"pbkdf2": "pbkdf2", "pbkdf2-sha256": "pbkdf2", "pbkdf2-sha512": "pbkdf2",
}

// weakHashes crack in hours on one GPU.
var weakHashes = map[string]bool{
	"des": true, "bsdi-des": true, "md5crypt": true, "apr1-md5": true, "sha1": true, "ssha": true,
	"nthash": true, "sunmd5": true, "plaintext": true,
}

func hashAlgorithm(f []byte) string {
	switch {
	case len(f) == 0:
		return ""
	case f[0] == '$':
		end := bytes.IndexByte(f[1:], '$')
		if end < 0 || len(f) < 13 {
			return ""
		}
		if name, ok := cryptIDs[string(f[1:1+end])]; ok {
			return name
		}
		if len(f) >= 20 && isCryptText(f) {
			return "unknown"
		}
		return ""
	case f[0] == '{':
		end := bytes.IndexByte(f, '}')
		if end < 0 {
			return ""
		}
		scheme := strings.ToLower(string(f[1:end]))
		rest := f[end+1:]
		switch scheme {
		case "sha":
			return "sha1"
		case "ssha", "ssha256", "ssha512", "sha256", "sha512":
			return scheme
		case "crypt":
			return hashAlgorithm(rest)
		case "plain", "cleartext":
			if len(rest) > 0 {
				return "plaintext"
			}
		}
		return ""
	case len(f) == 13 && isCryptText(f):
		return "des"
	case len(f) == 20 && f[0] == '_' && isCryptText(f[1:]):
		return "bsdi-des"
	}
	return ""
}

// isCryptText: the crypt(3) alphabet plus the separators of modular formats.
func isCryptText(f []byte) bool {
	for _, c := range f {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '/' || c == '$' || c == '=' || c == '+' || c == ',' || c == '-') {
			return false
		}
	}
	return true
}

// analyzeShadow reads name:password:… lines (shadow, gshadow, BSD master.passwd, a legacy
// passwd, htpasswd) and reports the accounts whose password field holds a real hash, with the
// schemes used. Locked fields without a hash ("!", "*", "!!") do not count; a locked field that
// still holds a hash ("!$6$…") is counted apart. No hash ever reaches the evidence.
func analyzeShadow(a *analysis) bool {
	var live, locked, empty int
	var algos, accounts, lockedAccounts nameList
	rootHash, weak := false, false
	forEachLine(a.content, func(line []byte, _ int) bool {
		if len(line) == 0 || line[0] == '#' {
			return true
		}
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || len(name) > 256 {
			return true
		}
		pw, _, _ := bytes.Cut(rest, []byte{':'})
		algo, st := classifyHash(bytes.TrimSpace(pw))
		switch st {
		case liveHash:
			live++
			accounts.add(string(name))
			algos.add(algo)
			weak = weak || weakHashes[algo]
			rootHash = rootHash || string(name) == "root" || string(name) == "toor"
		case lockedHash:
			locked++
			lockedAccounts.add(string(name))
			algos.add(algo)
		case emptyHash:
			if bytes.Count(line, []byte{':'}) >= 6 { // a shadow/passwd line, not "name:" in htpasswd
				empty++
			}
		}
		return true
	})
	if live == 0 && locked == 0 {
		return false
	}
	a.set("accounts_with_hash", live)
	a.setList("accounts", &accounts, false)
	a.setList("algorithms", &algos, true)
	if locked > 0 {
		a.set("locked_accounts_with_hash", locked)
		a.setList("locked_accounts", &lockedAccounts, false)
	}
	if empty > 0 {
		a.set("accounts_without_password", empty)
	}
	if rootHash {
		a.set("root_has_hash", true)
	}
	switch {
	case live == 0:
		a.severity = min(a.severity, Medium) // only locked accounts: crackable, but no login
	case weak:
		a.set("weak_algorithms", true)
		a.severity = max(a.severity, Critical)
	}
	return true
}

// analyzeOpasswd reads pam_pwhistory's /etc/security/opasswd: name:uid:count:hash,hash,…
func analyzeOpasswd(a *analysis) bool {
	var hashes int
	var algos, accounts nameList
	forEachLine(a.content, func(line []byte, _ int) bool {
		f := bytes.SplitN(line, []byte{':'}, 4)
		if len(f) < 4 || len(f[0]) == 0 {
			return true
		}
		for _, h := range bytes.Split(f[3], []byte{','}) {
			if algo, st := classifyHash(bytes.TrimSpace(h)); st == liveHash || st == lockedHash {
				hashes++
				algos.add(algo)
				accounts.add(string(f[0]))
			}
		}
		return true
	})
	if hashes == 0 {
		return false
	}
	a.set("old_hashes", hashes)
	a.setList("accounts", &accounts, false)
	a.setList("algorithms", &algos, true)
	return true
}

// Unattended-setup answer files (Windows Setup unattend.xml, sysprep.inf).
var (
	xmlPasswordOpen = regexp.MustCompile(`(?i)<(administratorpassword|password|domainadminpassword)(?:\s[^>]{0,200})?>`)
	xmlValue        = regexp.MustCompile(`(?is)<value(?:\s[^>]{0,200})?>(.*?)</value>`)
	xmlPlainText    = regexp.MustCompile(`(?is)<plaintext>\s*(true|false)\s*</plaintext>`)
	infPassword     = regexp.MustCompile(`(?im)^[ \t]*(adminpassword|domainadminpassword|autologonpassword|password)[ \t]*=[ \t]*"?([^"\r\n]*)`)
	unattendContext = []string{"<autologon", "<localaccount", "<domainaccount", "<credentials", "<administratorpassword", "<useraccounts"}
)

// analyzeUnattend counts the passwords an answer file gives: <AdministratorPassword>,
// <AutoLogon>/<LocalAccount> <Password><Value>, domain-join <Credentials><Password>, and
// sysprep.inf's AdminPassword=. "Plain text false" only means base64 of the password and a fixed
// suffix: as good as clear. Windows replaces used values with *SENSITIVE*DATA*DELETED*.
func analyzeUnattend(a *analysis) bool {
	c := a.content
	lower := bytes.ToLower(c)
	var contexts nameList
	passwords, plain, encoded := 0, 0, 0
	for _, loc := range xmlPasswordOpen.FindAllSubmatchIndex(c, 1000) {
		tag := string(lower[loc[2]:loc[3]])
		closeTag := []byte("</" + tag + ">")
		rest := c[loc[1]:min(len(c), loc[1]+8192)]
		end := bytes.Index(bytes.ToLower(rest), closeTag)
		if end < 0 {
			continue
		}
		body := rest[:end]
		value := body
		if m := xmlValue.FindSubmatch(body); m != nil {
			value = m[1]
		} else if bytes.Contains(body, []byte("<")) {
			continue // a container without a value
		}
		if isPlaceholder(string(value)) {
			continue
		}
		passwords++
		if m := xmlPlainText.FindSubmatch(body); m != nil && strings.EqualFold(string(m[1]), "false") {
			encoded++
		} else {
			plain++
		}
		ctx := "Password"
		if tag != "password" {
			ctx = map[string]string{"administratorpassword": "AdministratorPassword", "domainadminpassword": "DomainAdminPassword"}[tag]
		} else {
			best := -1
			back := lower[max(0, loc[0]-4096):loc[0]]
			for _, t := range unattendContext {
				if i := bytes.LastIndex(back, []byte(t)); i > best {
					best, ctx = i, unattendName(t)
				}
			}
		}
		contexts.add(ctx)
	}
	for _, m := range infPassword.FindAllSubmatch(c, 1000) {
		v := strings.TrimSpace(string(m[2]))
		if v == "*" || isPlaceholder(v) {
			continue
		}
		passwords++
		plain++
		contexts.add("sysprep.inf " + string(m[1]))
	}
	if passwords == 0 {
		return false
	}
	a.set("passwords", passwords)
	a.setList("contexts", &contexts, true)
	a.set("plain_text", plain)
	if encoded > 0 {
		a.set("base64_encoded", encoded)
	}
	return true
}

func unattendName(tag string) string {
	switch tag {
	case "<autologon":
		return "AutoLogon"
	case "<localaccount":
		return "LocalAccount"
	case "<domainaccount":
		return "DomainAccount"
	case "<credentials":
		return "Credentials"
	case "<administratorpassword":
		return "AdministratorPassword"
	}
	return "UserAccounts"
}

// analyzeRegistryHive checks a Windows registry hive's base block ("regf") and reports the file
// name it records and whether it was left dirty (sequence numbers differ: a log holds changes).
func analyzeRegistryHive(a *analysis) bool {
	c := a.content
	if len(c) < 12 || string(c[:4]) != "regf" {
		return false
	}
	if binary.LittleEndian.Uint32(c[4:8]) != binary.LittleEndian.Uint32(c[8:12]) {
		a.set("dirty", true)
	}
	if len(c) >= 48+64 {
		u := make([]uint16, 0, 32)
		for i := 48; i+1 < 48+64; i += 2 {
			v := binary.LittleEndian.Uint16(c[i:])
			if v == 0 {
				break
			}
			u = append(u, v)
		}
		if name := printableName(string(utf16.Decode(u))); name != "" {
			a.set("hive_name", name)
		}
	}
	return true
}

// analyzeELFCore accepts an ELF file of type ET_CORE (a process memory dump).
func analyzeELFCore(a *analysis) bool {
	c := a.content
	if len(c) < 20 || string(c[:4]) != "\x7fELF" {
		return false
	}
	var typ uint16
	switch c[5] {
	case 1:
		typ = binary.LittleEndian.Uint16(c[16:])
	case 2:
		typ = binary.BigEndian.Uint16(c[16:])
	default:
		return false
	}
	if typ != 4 {
		return false
	}
	a.set("format", "elf-core")
	a.set("class", map[byte]int{1: 32, 2: 64}[c[4]])
	return true
}
