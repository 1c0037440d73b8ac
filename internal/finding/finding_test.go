package finding

import (
	"encoding/json"
	"testing"
)

func TestFingerprintIsStableAndDistinguishes(t *testing.T) {
	r := Resource{Provider: "local", Type: "disk-image", ID: "/tmp/a.qcow2"}
	a := Fingerprint("secret/aws-access-key", r, "p2", "/home/u/.aws/credentials", "abc")
	if a != Fingerprint("secret/aws-access-key", r, "p2", "/home/u/.aws/credentials", "abc") {
		t.Fatal("not stable")
	}
	for _, b := range []string{
		Fingerprint("secret/aws-access-key", r, "p2", "/home/u/.aws/credentials", "abd"),
		Fingerprint("secret/aws-access-key", r, "p2/home/u/.aws/credentials", "abc"), // parts are length-prefixed
		Fingerprint("secret/github-pat", r, "p2", "/home/u/.aws/credentials", "abc"),
	} {
		if a == b {
			t.Fatal("different problems share an id")
		}
	}
}

func TestSeverityText(t *testing.T) {
	var f struct{ S Severity }
	if err := json.Unmarshal([]byte(`{"S":"HIGH"}`), &f); err != nil || f.S != High {
		t.Fatalf("%v %v", f.S, err)
	}
	if err := json.Unmarshal([]byte(`{"S":"urgent"}`), &f); err == nil {
		t.Fatal("unknown severity accepted")
	}
	b, _ := json.Marshal(struct{ S Severity }{Critical})
	if string(b) != `{"S":"critical"}` || !(Critical > High && High > Medium && Low > Info) {
		t.Fatalf("%s", b)
	}
}
