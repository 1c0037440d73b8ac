#!/usr/bin/env python3
"""Helpers of bench/content.sh: build the standard tree, plant secrets, write an XFS protofile,
and compute each tool's recall of the planted secrets from its JSON report.

  plant.py copy TREE SIZE_MB    copy /etc and /usr files (sorted, deterministic) up to SIZE_MB
  plant.py plant TREE           write the planted secrets; print "path<TAB>kind" per plant
  plant.py proto TREE           print an xfsprogs protofile for TREE
  plant.py recall PLANTS REPORT print "found/planted" for a snapwatch, trivy or gitleaks report

The secrets are random and were never issued by any service; the keys are made on the spot.
"""
import base64, binascii, io, json, os, random, shutil, stat, subprocess, sys, tarfile

R = random.Random(20261125)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def rnd(n, alphabet=ALNUM):
    return "".join(R.choice(alphabet) for _ in range(n))


def b62(n, width):
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[r] + s
    return s.rjust(width, "0")


def github_token():
    body = rnd(30)
    return "ghp_" + body + b62(binascii.crc32(body.encode()), 6)


def copy(tree, size_mb):
    budget = size_mb * 1_000_000
    # Small files first, as a root file system holds them: configuration, data, headers, scripts,
    # then binaries and libraries; no single file over 32 MB.
    for top in ["etc", "usr/share", "usr/include", "usr/lib/python3", "usr/bin", "usr/sbin", "usr/lib/x86_64-linux-gnu"]:
        for root, dirs, files in os.walk("/" + top):
            dirs.sort()
            for name in sorted(files):
                src = os.path.join(root, name)
                if " " in src or "\t" in src or "\n" in src:
                    continue
                try:
                    st = os.lstat(src)
                except OSError:
                    continue
                if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                    continue
                if stat.S_ISREG(st.st_mode) and (st.st_size > min(budget, 32_000_000) or not os.access(src, os.R_OK)):
                    continue
                dst = tree + src
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                try:
                    if stat.S_ISLNK(st.st_mode):
                        os.symlink(os.readlink(src), dst)
                    else:
                        shutil.copyfile(src, dst)
                        os.chmod(dst, 0o644)
                        budget -= st.st_size
                except OSError:
                    continue
                if budget <= 0:
                    return


def keygen(kind):
    if kind == "openssh":
        d = "/tmp/plant-key-%d" % os.getpid()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d], check=True)
        k = open(d).read()
        os.remove(d), os.remove(d + ".pub")
        return k
    if kind == "rsa":
        return subprocess.run(["openssl", "genrsa", "-traditional", "2048"], check=True, capture_output=True, text=True).stdout
    return subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                          check=True, capture_output=True, text=True).stdout


def plants():
    aws = lambda: ("AKIA" + rnd(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), rnd(40, ALNUM + "+/"))
    k1, s1 = aws()
    k2, s2 = aws()
    env_in_tar = "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (k2, s2)
    sa = {"type": "service_account", "project_id": "acme-prod-4711", "private_key_id": rnd(40, "0123456789abcdef"),
          "private_key": keygen("pkcs8"), "client_email": "deployer@acme-prod-4711.iam.gserviceaccount.com",
          "client_id": rnd(21, "0123456789"), "token_uri": "https://oauth2.googleapis.com/token"}
    return [
        ("home/alice/.aws/credentials", "aws", "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (k1, s1)),
        ("home/alice/.ssh/id_ed25519", "ssh-key", keygen("openssh")),
        ("etc/ssl/private/server.key", "rsa-key", keygen("rsa")),
        ("var/www/app/.env", "stripe", "APP_ENV=production\nSTRIPE_SECRET_KEY=sk_live_%s\n" % rnd(24)),
        ("opt/app/config.yml", "slack", "slack:\n  bot_token: xoxb-%s-%s-%s\n" % (rnd(10, "0123456789"), rnd(13, "0123456789"), rnd(24))),
        ("root/.git-credentials", "github", "https://deploy:%s@github.com\n" % github_token()),
        ("srv/gcp/service-account.json", "gcp-sa", json.dumps(sa, indent=2) + "\n"),
        ("etc/app/db.conf", "postgres-uri", "url = postgresql://app:%s@db.prod.internal:5432/orders\n" % rnd(16)),
        ("home/alice/notes.txt", "sendgrid", "sendgrid: SG.%s.%s\n" % (rnd(22), rnd(43))),
        ("opt/ci/gitlab.env", "gitlab", "GITLAB_TOKEN=glpat-%s\n" % rnd(20)),
        ("usr/local/etc/npmrc", "npm", "//registry.npmjs.org/:_authToken=npm_%s\n" % rnd(36)),
        ("home/bob/.config/anthropic", "anthropic", "ANTHROPIC_API_KEY=sk-ant-api03-%sAA\n" % rnd(93, ALNUM + "-_")),
        ("home/bob/hf.txt", "huggingface", "HF_TOKEN=hf_%s\n" % rnd(34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")),
        ("var/backups/app-config.tar.gz", "aws-in-tar.gz", ("tar", "app/.env", env_in_tar)),
    ]


def plant(tree):
    for path, kind, content in plants():
        dst = os.path.join(tree, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if isinstance(content, tuple):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tf:
                data = content[2].encode()
                info = tarfile.TarInfo(content[1])
                info.size, info.mtime = len(data), 1700000000
                tf.addfile(info, io.BytesIO(data))
            open(dst, "wb").write(buf.getvalue())
        else:
            open(dst, "w").write(content)
        print("/" + path + "\t" + kind)


def proto(tree):
    out = ["/dev/null", "0 0", "d--755 0 0"]

    def walk(d, depth):
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            st = os.lstat(p)
            ind = " " * depth
            if stat.S_ISLNK(st.st_mode):
                out.append("%s%s l--777 0 0 %s" % (ind, name, os.readlink(p)))
            elif stat.S_ISDIR(st.st_mode):
                out.append("%s%s d--755 0 0" % (ind, name))
                walk(p, depth + 1)
                out.append(ind + "$")
            elif stat.S_ISREG(st.st_mode):
                out.append("%s%s ---644 0 0 %s" % (ind, name, os.path.abspath(p)))
    walk(tree, 1)
    out.append("$")
    print("\n".join(out))


def reported_paths(report):
    """Every file path a report names, whatever the tool."""
    try:
        doc = json.load(open(report))
    except (OSError, ValueError):
        return set()
    paths = set()
    if isinstance(doc, dict) and "findings" in doc:  # snapwatch
        for f in doc["findings"]:
            paths.add((f.get("location") or {}).get("path", ""))
    elif isinstance(doc, dict) and "Results" in doc:  # trivy
        for r in doc.get("Results") or []:
            if r.get("Secrets"):
                paths.add(r.get("Target", ""))
    elif isinstance(doc, list):  # gitleaks
        for f in doc:
            paths.add(f.get("File", ""))
    return paths


def extras(plants_file, report):
    """Findings outside the planted files: the false positives on a real root tree."""
    planted = [l.split("\t")[0].lstrip("/") for l in open(plants_file).read().splitlines() if l]
    try:
        doc = json.load(open(report))
    except (OSError, ValueError):
        return []
    out = []
    for f in doc.get("findings", []):
        p = ((f.get("location") or {}).get("path") or "").lstrip("/").split("!")[0]
        if not any(p.endswith(x) for x in planted):
            out.append("%s %s" % (f.get("rule"), p))
    return out


def recall(plants_file, report):
    planted = [l.split("\t")[0] for l in open(plants_file).read().splitlines() if l]
    paths = reported_paths(report)
    found = [p for p in planted if any(r.lstrip("/").split("!")[0].endswith(p.lstrip("/")) for r in paths if r)]
    missed = sorted(set(planted) - set(found))
    print("%d/%d%s" % (len(found), len(planted), ("  missed: " + " ".join(os.path.basename(m) for m in missed)) if missed else ""))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "copy":
        copy(sys.argv[2], int(sys.argv[3]))
    elif cmd == "plant":
        plant(sys.argv[2])
    elif cmd == "proto":
        proto(sys.argv[2])
    elif cmd == "recall":
        recall(sys.argv[2], sys.argv[3])
    elif cmd == "extras":
        for line in extras(sys.argv[2], sys.argv[3]):
            print(line)
