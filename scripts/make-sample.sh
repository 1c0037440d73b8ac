#!/usr/bin/env bash
# Builds the sample disk image embedded in snapwatch (snapwatch sample), with the real tools:
# a GPT disk with an EFI System partition (FAT16) and a Linux root (ext4) holding a few files an
# attacker would want (all fake: the AWS key pair is random, never issued by AWS; the SSH key is
# freshly made and thrown away), one of them deleted, compressed as qcow2.
# Usage: scripts/make-sample.sh OUT.qcow2   (needs e2fsprogs, dosfstools, mtools, fdisk, qemu-utils)
set -euo pipefail
out=${1:?usage: $0 OUT.qcow2}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export PATH=$PATH:/usr/sbin:/sbin E2FSPROGS_FAKE_TIME=1700000000

root=$tmp/root
mkdir -p "$root"/{etc,root,home/alice/.aws,home/alice/.ssh,var/www/html,boot/efi}
printf 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n' >"$root/etc/passwd"
printf 'root:$6$sample$3p6cbmzCr6Nf0pJVlF0v7BzL3yPe3kP7W0Y3E3v1C4mXoYl8wq1bJ1V7zYc9m8S0m9bq1Zt2Q2Y3c0WnS1aGq0:19700:0:99999:7:::\nalice:!:19700:0:99999:7:::\n' >"$root/etc/shadow"
chmod 0640 "$root/etc/shadow"
printf 'sample-host\n' >"$root/etc/hostname"
printf '[default]\naws_access_key_id = AKIAUVM2HVYKNABO4YSL\naws_secret_access_key = faoiSAsTck62gwhR71o32FiD7mdFSsaP7xSFa6IV\n' >"$root/home/alice/.aws/credentials"
chmod 0600 "$root/home/alice/.aws/credentials"
ssh-keygen -q -t ed25519 -N '' -C alice@sample -f "$root/home/alice/.ssh/id_ed25519" 2>/dev/null ||
  printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ==\n-----END OPENSSH PRIVATE KEY-----\n' >"$root/home/alice/.ssh/id_ed25519"
printf '<?php\ndefine('"'"'DB_PASSWORD'"'"', '"'"'s4mple-Passw0rd!'"'"');\n' >"$root/var/www/html/wp-config.php"
printf 'mysql -u root -pS3cretHist0ry\n' >"$root/root/.bash_history"
ln -s ../../etc/hostname "$root/home/alice/hostname-link"
# A backup tarball: secrets inside archives count too.
mkdir -p "$tmp/app" "$root/var/backups"
printf 'DATABASE_URL=postgres://app:Wq8vN2rT5kLm@db.internal:5432/app\nSTRIPE_SECRET_KEY=%s\n' 'sk_live_OhbVrpoiVgRV5IfLBcbfnoGM' >"$tmp/app/.env"
tar -C "$tmp" --owner=0 --group=0 --mtime=@1700000000 -czf "$root/var/backups/app-config.tar.gz" app

esp=$tmp/esp.img; truncate -s 16M "$esp"
mkfs.vfat -F 16 -n ESP -i 5eed0001 "$esp" >/dev/null
mkdir -p "$tmp/efi/EFI/BOOT"; printf 'not a real loader\n' >"$tmp/efi/EFI/BOOT/BOOTX64.EFI"
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$esp" "$tmp/efi/EFI" ::/

ext=$tmp/root.img; truncate -s 24M "$ext"
mke2fs -q -F -t ext4 -N 128 -O ^has_journal -L sample-root -U 5eed5eed-0000-4000-8000-000000000001 -E root_owner=0:0 -d "$root" "$ext"
# Delete the history file the way a careless admin would: its blocks stay on disk.
debugfs -w -R 'rm /root/.bash_history' "$ext" >/dev/null 2>&1

disk=$tmp/disk.raw; truncate -s 44M "$disk"
sfdisk --quiet "$disk" <<SFDISK
label: gpt
label-id: 5EED5EED-0000-4000-8000-0000000000AA
size=16MiB, type=U, name="EFI System Partition", uuid=5EED5EED-0000-4000-8000-0000000000E1
size=24MiB, type=L, name="root", uuid=5EED5EED-0000-4000-8000-0000000000E2
SFDISK
dd if="$esp" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$ext" of="$disk" bs=1M seek=17 conv=notrunc,sparse status=none
qemu-img convert -c -f raw -O qcow2 "$disk" "$out"
