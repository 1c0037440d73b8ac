package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests drive the built binary, as a user or a script would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "snapwatch-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "snapwatch")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestQuickStart runs the README's first command's steps and checks what inspect reports.
func TestQuickStart(t *testing.T) {
	img := filepath.Join(t.TempDir(), "sample.qcow2")
	if _, stderr, code := run(t, "sample", img); code != 0 {
		t.Fatalf("sample: %d %s", code, stderr)
	}
	if st, err := os.Stat(img); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sample file: %v %v", st, err)
	}
	out, stderr, code := run(t, "inspect", "--files", "--deleted", "--format", "json", img)
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s\n%s", code, stderr, out)
	}
	var image map[string]any
	volumes := map[string]map[string]any{}
	files := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not JSON lines: %q", sc.Text())
		}
		switch rec["type"] {
		case "image":
			image = rec
		case "volume":
			volumes[rec["name"].(string)] = rec
		case "file":
			files[rec["volume"].(string)+":"+rec["path"].(string)] = rec
		default:
			t.Errorf("unexpected record %v", rec)
		}
	}
	if image["format"] != "qcow2" || image["size"].(float64) != 44<<20 {
		t.Errorf("image record: %v", image)
	}
	if v := volumes["p1"]; v["fs"] != "fat16" || v["scheme"] != "gpt" || v["label"] != "EFI System Partition" {
		t.Errorf("p1: %v", v)
	}
	if v := volumes["p2"]; v["fs"] != "ext4" || v["fs_label"] != "sample-root" || v["offset"].(float64) != 17<<20 {
		t.Errorf("p2: %v", v)
	}
	cred := files["p2:/home/alice/.aws/credentials"]
	if cred == nil || cred["mode"] != "-rw-------" || cred["deleted"] != false || cred["size"].(float64) != 116 {
		t.Errorf("credentials: %v", cred)
	}
	if f := files["p1:/EFI/BOOT/BOOTX64.EFI"]; f == nil || f["fs"] != "fat16" {
		t.Errorf("ESP file: %v", f)
	}
	if l := files["p2:/home/alice/hostname-link"]; l == nil || l["link"] != "../../etc/hostname" || l["mode"] != "lrwxrwxrwx" {
		t.Errorf("symlink: %v", l)
	}
	del := files["p2:/root/.bash_history"]
	if del == nil || del["deleted"] != true || del["recovered"].(float64) != del["size"].(float64) || del["size"].(float64) == 0 {
		t.Errorf("deleted history: %v", del)
	}
}

func TestInspectTable(t *testing.T) {
	img := filepath.Join(t.TempDir(), "sample.qcow2")
	run(t, "sample", img)
	out, _, code := run(t, "inspect", img)
	if code != 0 || !strings.Contains(out, "qcow2, 44.0 MiB") || !strings.Contains(out, "fs=ext4 label=\"sample-root\"") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestBadInput: a broken image is a clear error and exit code 2, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "sample.qcow2")
	run(t, "sample", img)
	b, _ := os.ReadFile(img)
	truncated := filepath.Join(dir, "truncated.qcow2")
	os.WriteFile(truncated, b[:200], 0o600)
	out, stderr, code := run(t, "inspect", "--format", "json", truncated)
	if code != 2 || !strings.Contains(out, `"type":"error"`) || !strings.Contains(out, "qcow2") {
		t.Errorf("truncated qcow2: exit %d\n%s\n%s", code, out, stderr)
	}
	if strings.Contains(stderr, "panic") {
		t.Errorf("panic:\n%s", stderr)
	}
	if out, stderr, code := run(t, "inspect", filepath.Join(dir, "missing.img")); code != 2 || !strings.Contains(out, "no such file") {
		t.Errorf("missing file: exit %d %s %s", code, out, stderr)
	}
	if _, stderr, code := run(t, "inspect", "--format", "xml", img); code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("bad format flag: exit %d %s", code, stderr)
	}
	out, _, code = run(t, "inspect", "-o", filepath.Join(dir, "out.jsonl"), "--format", "json", img)
	if st, err := os.Stat(filepath.Join(dir, "out.jsonl")); code != 0 || err != nil || st.Mode().Perm() != 0o600 || out != "" {
		t.Errorf("--output: exit %d, %v %v", code, st, err)
	}
}
