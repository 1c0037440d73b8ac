package secret

import "encoding/binary"

// pgpSecretKeyEncrypted reads the first packet of an OpenPGP secret key (RFC 9580 §5.5.3): the
// S2K usage octet that follows the public key material is 0 for a key stored in the clear.
// ok is false when the packet is not a secret key this parser understands.
func pgpSecretKeyEncrypted(b []byte) (encrypted, ok bool) {
	tag, body, ok := pgpPacket(b)
	if !ok || (tag != 5 && tag != 7) || len(body) < 6 {
		return false, false
	}
	version := body[0]
	p := body[1:]
	switch version {
	case 4:
		if len(p) < 5 {
			return false, false
		}
		algo := p[4]
		rest, ok := skipPGPPublicMaterial(algo, p[5:])
		if !ok || len(rest) == 0 {
			return false, false
		}
		return rest[0] != 0, true
	case 5, 6:
		if len(p) < 9 {
			return false, false
		}
		n := int(binary.BigEndian.Uint32(p[5:9]))
		p = p[9:]
		if n < 0 || n >= len(p) {
			return false, false
		}
		return p[n] != 0, true
	}
	return false, false
}

// pgpPacket splits off the first packet, old or new header format.
func pgpPacket(b []byte) (tag byte, body []byte, ok bool) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return 0, nil, false
	}
	var n, hdr int
	if b[0]&0x40 != 0 { // new format
		tag = b[0] & 0x3f
		switch l := int(b[1]); {
		case l < 192:
			n, hdr = l, 2
		case l < 224:
			if len(b) < 3 {
				return 0, nil, false
			}
			n, hdr = (l-192)<<8+int(b[2])+192, 3
		case l == 255:
			if len(b) < 6 {
				return 0, nil, false
			}
			n, hdr = int(binary.BigEndian.Uint32(b[2:6])), 6
		default: // partial body lengths: never used for key packets
			return 0, nil, false
		}
	} else { // old format
		tag = (b[0] >> 2) & 0x0f
		switch b[0] & 3 {
		case 0:
			n, hdr = int(b[1]), 2
		case 1:
			if len(b) < 3 {
				return 0, nil, false
			}
			n, hdr = int(binary.BigEndian.Uint16(b[1:3])), 3
		case 2:
			if len(b) < 5 {
				return 0, nil, false
			}
			n, hdr = int(binary.BigEndian.Uint32(b[1:5])), 5
		default:
			n, hdr = len(b)-1, 1
		}
	}
	if n < 0 || hdr+n > len(b) {
		n = len(b) - hdr // a truncated dump still tells the S2K octet
	}
	return tag, b[hdr : hdr+n], true
}

// skipPGPPublicMaterial skips a v4 key's public fields for algo and returns what follows.
func skipPGPPublicMaterial(algo byte, p []byte) ([]byte, bool) {
	mpis := func(p []byte, k int) ([]byte, bool) {
		for ; k > 0; k-- {
			if len(p) < 2 {
				return nil, false
			}
			n := (int(binary.BigEndian.Uint16(p)) + 7) / 8
			if 2+n > len(p) {
				return nil, false
			}
			p = p[2+n:]
		}
		return p, true
	}
	oid := func(p []byte) ([]byte, bool) {
		if len(p) < 1 || 1+int(p[0]) > len(p) {
			return nil, false
		}
		return p[1+int(p[0]):], true
	}
	switch algo {
	case 1, 2, 3: // RSA: n, e
		return mpis(p, 2)
	case 16, 20: // Elgamal: p, g, y
		return mpis(p, 3)
	case 17: // DSA: p, q, g, y
		return mpis(p, 4)
	case 19, 22: // ECDSA, EdDSA (legacy): curve OID, point
		p, ok := oid(p)
		if !ok {
			return nil, false
		}
		return mpis(p, 1)
	case 18: // ECDH: curve OID, point, KDF parameters
		p, ok := oid(p)
		if !ok {
			return nil, false
		}
		if p, ok = mpis(p, 1); !ok {
			return nil, false
		}
		return oid(p) // the KDF parameters are length-prefixed like an OID
	case 25:
		return skip(p, 32)
	case 26:
		return skip(p, 56)
	case 27:
		return skip(p, 32)
	case 28:
		return skip(p, 57)
	}
	return nil, false
}

func skip(p []byte, n int) ([]byte, bool) {
	if len(p) < n {
		return nil, false
	}
	return p[n:], true
}
