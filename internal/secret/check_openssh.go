package secret

import (
	"bytes"
	"encoding/binary"
)

// parseOpenSSH reads the unencrypted header of an "openssh-key-v1" key (PROTOCOL.key in the
// OpenSSH sources): magic, cipher name, KDF name, KDF options, key count, first public key.
// A key is encrypted when its cipher or KDF is anything but "none".
func parseOpenSSH(b []byte) (keyType string, encrypted, ok bool) {
	const magic = "openssh-key-v1\x00"
	if !bytes.HasPrefix(b, []byte(magic)) {
		return "", false, false
	}
	b = b[len(magic):]
	cipher, b, ok := sshString(b)
	if !ok {
		return "", false, false
	}
	kdf, b, ok := sshString(b)
	if !ok {
		return "", false, false
	}
	if _, b, ok = sshString(b); !ok { // KDF options: salt and rounds
		return "", false, false
	}
	if len(b) < 4 || binary.BigEndian.Uint32(b) == 0 {
		return "", false, false
	}
	pub, _, ok := sshString(b[4:])
	if !ok {
		return "", false, false
	}
	kt, _, ok := sshString(pub)
	if !ok {
		return "", false, false
	}
	encrypted = string(cipher) != "none" || string(kdf) != "none"
	return string(kt), encrypted, true
}

// sshString reads an RFC 4251 string: a big-endian uint32 length, then the bytes.
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}
