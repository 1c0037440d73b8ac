package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"path"
	"strings"
)

// forEachINI calls fn for each key = value line with its [section] ("" before the first);
// keys are lower-cased, values trimmed. Comments start with # or ;.
func forEachINI(b []byte, fn func(section, key, value string)) {
	section := ""
	forEachLine(b, func(line []byte, _ int) bool {
		t := strings.TrimSpace(string(line))
		if t == "" || t[0] == '#' || t[0] == ';' {
			return true
		}
		if t[0] == '[' {
			if j := strings.IndexByte(t, ']'); j > 0 {
				section = strings.TrimSpace(t[1:j])
			}
			return true
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return true
		}
		fn(section, strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v))
		return true
	})
}

// analyzeAWS reads AWS CLI/SDK shared files (credentials and config): profiles with static keys
// (long-term AKIA… or temporary ASIA…/session tokens), credential_process commands and SSO.
// Key ids appear redacted ("AKIA…"), secrets not at all.
func analyzeAWS(a *analysis) bool {
	type profile struct {
		keyID                         string
		secret, session, process, sso bool
	}
	profiles := map[string]*profile{}
	var order []string
	ssoSessions := 0
	forEachINI(a.content, func(section, k, v string) {
		if strings.HasPrefix(section, "sso-session ") {
			if k == "sso_start_url" && !isPlaceholder(v) {
				ssoSessions++
			}
			return
		}
		name := strings.TrimSpace(strings.TrimPrefix(section, "profile "))
		p := profiles[name]
		if p == nil {
			p = &profile{}
			profiles[name] = p
			order = append(order, name)
		}
		switch k {
		case "aws_access_key_id":
			if !isPlaceholder(v) {
				p.keyID = v
			}
		case "aws_secret_access_key":
			p.secret = p.secret || (len(v) >= 16 && !isPlaceholder(v))
		case "aws_session_token", "aws_security_token":
			p.session = p.session || (len(v) >= 16 && !isPlaceholder(v))
		case "credential_process":
			p.process = p.process || v != ""
		case "sso_start_url", "sso_session", "sso_account_id":
			p.sso = true
		}
	})
	var names, keyIDs nameList
	keys, longTerm, temporary, process, sso := 0, 0, 0, 0, 0
	for _, name := range order {
		p := profiles[name]
		switch {
		case p.secret:
			keys++
			names.add(name)
			if p.keyID != "" {
				keyIDs.add(Redact([]byte(p.keyID)))
			}
			if strings.HasPrefix(p.keyID, "ASIA") || p.session {
				temporary++
			} else {
				longTerm++
			}
		case p.process:
			process++
			names.add(name)
		case p.sso:
			sso++
			names.add(name)
		}
	}
	if keys == 0 && process == 0 && sso == 0 && ssoSessions == 0 {
		return false
	}
	a.setList("profiles", &names, false)
	if keys > 0 {
		a.set("access_keys", keys)
		a.set("long_term_keys", longTerm)
		a.set("temporary_keys", temporary)
		a.setList("key_ids", &keyIDs, true)
	}
	if process > 0 {
		a.set("credential_process", process)
	}
	if sso > 0 || ssoSessions > 0 {
		a.set("sso_profiles", sso)
		a.set("sso_sessions", ssoSessions)
	}
	switch {
	case longTerm > 0:
	case temporary > 0:
		a.severity = min(a.severity, High)
	case process > 0:
		a.severity = min(a.severity, Medium)
	default:
		a.severity = min(a.severity, Low) // SSO settings: the tokens live in sso/cache
	}
	return true
}

func jsonBody(c []byte) []byte {
	return bytes.TrimPrefix(bytes.TrimSpace(c), []byte("\xef\xbb\xbf"))
}

// analyzeAzureProfile reads azureProfile.json: the subscriptions, tenants and users the Azure
// CLI was logged in to. No secret, but a map of what the leaked tokens beside it open.
func analyzeAzureProfile(a *analysis) bool {
	var prof struct {
		Subscriptions []struct {
			ID       string `json:"id"`
			TenantID string `json:"tenantId"`
			User     struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"user"`
		} `json:"subscriptions"`
	}
	if json.Unmarshal(jsonBody(a.content), &prof) != nil || len(prof.Subscriptions) == 0 {
		return false
	}
	var tenants, users nameList
	for _, s := range prof.Subscriptions {
		tenants.add(s.TenantID)
		users.add(s.User.Name)
	}
	a.set("subscriptions", len(prof.Subscriptions))
	a.setList("tenants", &tenants, true)
	a.setList("users", &users, true)
	return true
}

// analyzeAzureTokens reads the Azure CLI's token stores: the MSAL cache (msal_token_cache.json:
// AccessToken, RefreshToken, IdToken and Account maps), the ADAL list (accessTokens.json) and
// service principal entries (client secrets).
func analyzeAzureTokens(a *analysis) bool {
	var doc any
	if json.Unmarshal(jsonBody(a.content), &doc) != nil {
		return false
	}
	access, refresh, secrets, certs := 0, 0, 0, 0
	var users, clients nameList
	field := func(m map[string]any, keys ...string) string {
		for _, k := range keys {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	switch d := doc.(type) {
	case map[string]any: // MSAL
		count := func(k string) int {
			m, _ := d[k].(map[string]any)
			return len(m)
		}
		access, refresh = count("AccessToken"), count("RefreshToken")
		if accts, ok := d["Account"].(map[string]any); ok {
			for _, v := range accts {
				if m, ok := v.(map[string]any); ok {
					users.add(field(m, "username"))
				}
			}
		}
	case []any: // ADAL token list or service principal entries
		for _, v := range d {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if s := field(m, "accessToken"); s != "" {
				access++
			}
			if s := field(m, "refreshToken"); s != "" {
				refresh++
			}
			if s := field(m, "client_secret", "clientSecret"); s != "" && m["client_id"] != nil {
				secrets++
				clients.add(field(m, "client_id"))
			} else if field(m, "certificate") != "" && m["client_id"] != nil {
				certs++
				clients.add(field(m, "client_id"))
			}
			users.add(field(m, "userId"))
		}
	default:
		return false
	}
	if access == 0 && refresh == 0 && secrets == 0 {
		return false
	}
	if access > 0 {
		a.set("access_tokens", access)
	}
	if refresh > 0 {
		a.set("refresh_tokens", refresh)
	}
	if secrets > 0 {
		a.set("client_secrets", secrets)
	}
	if certs > 0 {
		a.set("certificate_references", certs)
	}
	a.setList("users", &users, true)
	a.setList("client_ids", &clients, true)
	switch {
	case secrets > 0:
		a.severity = max(a.severity, Critical)
	case refresh == 0:
		a.severity = min(a.severity, Medium) // access tokens live an hour
	}
	return true
}

// analyzeGCPCredentials reads a Google credential JSON (application default credentials,
// gcloud's legacy adc.json): user refresh tokens, service-account keys, impersonation chains.
// external_account (workload identity federation) holds no secret and is not reported.
func analyzeGCPCredentials(a *analysis) bool {
	var cred struct {
		Type              string          `json:"type"`
		ClientEmail       string          `json:"client_email"`
		ProjectID         string          `json:"project_id"`
		QuotaProjectID    string          `json:"quota_project_id"`
		RefreshToken      string          `json:"refresh_token"`
		PrivateKey        string          `json:"private_key"`
		PrivateKeyID      string          `json:"private_key_id"`
		Account           string          `json:"account"`
		SourceCredentials json.RawMessage `json:"source_credentials"`
		ImpersonationURL  string          `json:"service_account_impersonation_url"`
	}
	if json.Unmarshal(jsonBody(a.content), &cred) != nil {
		return false
	}
	a.set("type", printableName(cred.Type))
	switch cred.Type {
	case "authorized_user":
		if isPlaceholder(cred.RefreshToken) {
			return false
		}
		if cred.Account != "" {
			a.set("account", printableName(cred.Account))
		}
	case "service_account":
		if !strings.Contains(cred.PrivateKey, "PRIVATE KEY") {
			return false
		}
		a.set("client_email", printableName(cred.ClientEmail))
		if cred.PrivateKeyID != "" {
			a.set("private_key_id", Redact([]byte(cred.PrivateKeyID)))
		}
	case "impersonated_service_account":
		if !bytes.Contains(cred.SourceCredentials, []byte("refresh_token")) && !bytes.Contains(cred.SourceCredentials, []byte("PRIVATE KEY")) {
			return false
		}
		if u, err := url.Parse(cred.ImpersonationURL); err == nil {
			a.set("impersonates", printableName(strings.TrimSuffix(path.Base(u.Path), ":generateAccessToken")))
		}
	default:
		return false
	}
	if p := firstNonEmpty(cred.ProjectID, cred.QuotaProjectID); p != "" {
		a.set("project", printableName(p))
	}
	return true
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// analyzeDockerConfig reads a Docker/Podman/kubelet registry auth file (config.json, auth.json,
// the legacy .dockercfg): entries with "auth" (base64 user:password), "identitytoken" or a
// password. Registries and user names are reported; credsStore/credHelpers keep secrets
// elsewhere and are only noted.
func analyzeDockerConfig(a *analysis) bool {
	type entry struct {
		Auth          string `json:"auth"`
		IdentityToken string `json:"identitytoken"`
		RegistryToken string `json:"registrytoken"`
		Username      string `json:"username"`
		Password      string `json:"password"`
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(jsonBody(a.content), &top) != nil {
		return false
	}
	auths := map[string]entry{}
	if raw, ok := top["auths"]; ok {
		if json.Unmarshal(raw, &auths) != nil {
			return false
		}
	} else { // .dockercfg: the registries are the top level
		for k, raw := range top {
			var e entry
			if json.Unmarshal(raw, &e) == nil {
				auths[k] = e
			}
		}
	}
	var registries, users nameList
	withAuth, tokens := 0, 0
	for reg, e := range auths {
		found := false
		if e.Auth != "" {
			if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Auth)); err == nil {
				if u, p, ok := strings.Cut(string(dec), ":"); ok && !isPlaceholder(p) {
					found = true
					users.add(u)
				}
			}
		}
		if !found && e.Password != "" && !isPlaceholder(e.Password) {
			found = true
			users.add(e.Username)
		}
		if found {
			withAuth++
		}
		if e.IdentityToken != "" && !isPlaceholder(e.IdentityToken) || e.RegistryToken != "" && !isPlaceholder(e.RegistryToken) {
			tokens++
			found = true
		}
		if found {
			registries.add(reg)
		}
	}
	if withAuth == 0 && tokens == 0 {
		return false
	}
	a.setList("registries", &registries, true)
	a.setList("users", &users, true)
	a.set("with_auth", withAuth)
	if tokens > 0 {
		a.set("identity_tokens", tokens)
	}
	var store string
	if raw, ok := top["credsStore"]; ok && json.Unmarshal(raw, &store) == nil && store != "" {
		a.set("creds_store", printableName(store))
	}
	return true
}

// analyzeKubeconfig reads a kubeconfig (YAML or JSON, line by line: no YAML dependency) and
// tells embedded credentials (client-key-data, token, password, auth-provider tokens) from
// references that hold no secret themselves (exec plugins, client-key and tokenFile paths).
func analyzeKubeconfig(a *analysis) bool {
	var clientKeys, tokens, passwords, providerTokens, execs, providers, keyFiles, tokenFiles int
	var servers, users, commands, providerNames nameList
	section := ""
	itemIndent := -1
	kind := ""
	forEachLine(a.content, func(line []byte, _ int) bool {
		s := string(line)
		t := strings.TrimLeft(s, " \t")
		indent := len(s) - len(t)
		t = strings.TrimSpace(t)
		if t == "" || t[0] == '#' {
			return true
		}
		item := strings.HasPrefix(t, "- ")
		t = strings.TrimSpace(strings.TrimPrefix(t, "- "))
		t = strings.TrimLeft(t, "{")
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			return true
		}
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		v = strings.TrimSpace(v)
		v = strings.TrimSpace(strings.TrimRight(v, ",}"))
		v = strings.Trim(v, `"'`)
		if indent <= 2 && !item { // top-level keys (JSON nests them one level in)
			switch k {
			case "clusters", "contexts", "users", "preferences", "extensions":
				section, itemIndent = k, -1
				return true
			case "kind":
				kind = v
				section = ""
			case "current-context", "apiVersion":
				section = ""
			}
		}
		if section == "clusters" && k == "server" {
			servers.add(v)
		}
		if section != "users" {
			return true
		}
		if item && itemIndent < 0 {
			itemIndent = indent
		}
		switch k {
		case "name":
			if item && indent == itemIndent {
				users.add(v)
			}
		case "client-key-data":
			if !isPlaceholder(v) && len(v) > 16 {
				clientKeys++
			}
		case "client-key":
			keyFiles++
		case "token":
			if !isPlaceholder(v) && len(v) > 8 {
				tokens++
			}
		case "tokenFile":
			tokenFiles++
		case "password":
			if !isPlaceholder(v) {
				passwords++
			}
		case "exec":
			execs++
		case "command":
			if execs > 0 && v != "" {
				commands.add(path.Base(strings.ReplaceAll(v, `\`, "/")))
			}
		case "auth-provider":
			providers++
		case "access-token", "refresh-token", "id-token", "client-secret":
			if !isPlaceholder(v) && len(v) > 8 {
				providerTokens++
			}
		}
		if k == "name" && providers > 0 && !item {
			providerNames.add(v)
		}
		return true
	})
	if kind != "" && kind != "Config" {
		return false
	}
	embedded := clientKeys + tokens + passwords + providerTokens
	if embedded == 0 && execs == 0 && providers == 0 && keyFiles == 0 && tokenFiles == 0 {
		return false
	}
	a.setList("users", &users, false)
	a.setList("servers", &servers, false)
	var creds nameList
	if embedded > 0 {
		creds.add("embedded")
	}
	if execs > 0 {
		creds.add("exec-plugin")
	}
	if providers > 0 {
		creds.add("auth-provider")
	}
	if keyFiles > 0 || tokenFiles > 0 {
		creds.add("file-reference")
	}
	a.setList("credentials", &creds, false)
	for k, v := range map[string]int{
		"embedded_client_keys": clientKeys, "tokens": tokens, "passwords": passwords,
		"auth_provider_tokens": providerTokens, "exec_plugins": execs, "auth_providers": providers,
		"client_key_files": keyFiles, "token_files": tokenFiles,
	} {
		if v > 0 {
			a.set(k, v)
		}
	}
	a.setList("exec_commands", &commands, true)
	if embedded == 0 {
		a.severity = Info // the credentials come from elsewhere at run time
	}
	return true
}

// rcloneSecretKeys are rclone remote options that hold credentials (obscured passwords are
// reversible by design: `rclone reveal`).
var rcloneSecretKeys = map[string]bool{
	"pass": true, "password": true, "password2": true, "secret_access_key": true, "token": true,
	"client_secret": true, "key": true, "account_key": true, "sas_url": true, "session_token": true,
	"service_account_credentials": true, "bearer_token": true, "key_file_pass": true,
	"key_pem": true, "api_key": true, "access_token": true, "app_key": true, "user_key": true,
	"application_key": true, "connection_string": true,
}

// analyzeRclone reads rclone.conf: remotes, their backends and how many credential fields they
// hold. An encrypted config (RCLONE_ENCRYPT_V0) is reported low.
func analyzeRclone(a *analysis) bool {
	if bytes.Contains(a.content[:min(len(a.content), 4096)], []byte("RCLONE_ENCRYPT_V0:")) {
		a.set("encrypted", true)
		a.severity = min(a.severity, Low)
		return true
	}
	var remotes, types nameList
	secrets := 0
	forEachINI(a.content, func(section, k, v string) {
		if section == "" {
			return
		}
		if k == "type" {
			types.add(v)
		}
		if rcloneSecretKeys[k] && !isPlaceholder(v) {
			secrets++
			remotes.add(section)
		}
	})
	if secrets == 0 {
		return false
	}
	a.setList("remotes", &remotes, true)
	a.setList("types", &types, true)
	a.set("secret_fields", secrets)
	return true
}
