package ext4

import "math/bits"

// Directory hash versions (dx_root_info.hash_version); the unsigned variants are chosen by the
// superblock flag EXT2_FLAGS_UNSIGNED_HASH, because the signedness of char differed by platform.
const (
	hashLegacy           = 0
	hashHalfMD4          = 1
	hashTea              = 2
	hashLegacyUnsigned   = 3
	hashHalfMD4Unsigned  = 4
	hashTeaUnsigned      = 5
	htreeEOF32           = 0x7fffffff
	legacyHashMultiplier = 7152373
)

// dirHash computes the htree hash of a name (the major hash, low bit cleared, as stored in dx
// entries). ok is false for versions this reader does not know (e.g. siphash for casefolded,
// encrypted directories), where the caller scans linearly instead.
func dirHash(version uint8, seed [4]uint32, name []byte) (uint32, bool) {
	buf := [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}
	if seed != [4]uint32{} {
		buf = seed
	}
	var h uint32
	switch version {
	case hashLegacy, hashLegacyUnsigned:
		h = legacyHash(name, version == hashLegacy)
	case hashHalfMD4, hashHalfMD4Unsigned:
		signed := version == hashHalfMD4
		var in [8]uint32
		for p := name; ; p = p[32:] {
			str2hashbuf(p, in[:], signed)
			halfMD4Transform(&buf, &in)
			if len(p) <= 32 {
				break
			}
		}
		h = buf[1]
	case hashTea, hashTeaUnsigned:
		signed := version == hashTea
		var in [4]uint32
		for p := name; ; p = p[16:] {
			str2hashbuf(p, in[:], signed)
			teaTransform(&buf, &in)
			if len(p) <= 16 {
				break
			}
		}
		h = buf[0]
	default:
		return 0, false
	}
	h &^= 1
	if h == htreeEOF32<<1 {
		h = (htreeEOF32 - 1) << 1
	}
	return h, true
}

func charValue(c byte, signed bool) uint32 {
	if signed {
		return uint32(int32(int8(c)))
	}
	return uint32(c)
}

func legacyHash(name []byte, signed bool) uint32 {
	h0, h1 := uint32(0x12a3fe2d), uint32(0x37abe8f9)
	for _, c := range name {
		h := h1 + (h0 ^ charValue(c, signed)*legacyHashMultiplier)
		if h&0x80000000 != 0 {
			h -= 0x7fffffff
		}
		h1, h0 = h0, h
	}
	return h0 << 1
}

// str2hashbuf packs up to 4*len(out) bytes of msg into words, padded with the length, as the
// kernel's str2hashbuf does.
func str2hashbuf(msg []byte, out []uint32, signed bool) {
	pad := uint32(len(msg)) | uint32(len(msg))<<8
	pad |= pad << 16
	val := pad
	n := min(len(msg), 4*len(out))
	o := 0
	for i := 0; i < n; i++ {
		val = charValue(msg[i], signed) + val<<8
		if i%4 == 3 {
			out[o] = val
			o++
			val = pad
		}
	}
	if o < len(out) {
		out[o] = val
		o++
	}
	for ; o < len(out); o++ {
		out[o] = pad
	}
}

func halfMD4Transform(buf *[4]uint32, in *[8]uint32) {
	const k2, k3 = 0o13240474631, 0o15666365641
	f := func(x, y, z uint32) uint32 { return z ^ (x & (y ^ z)) }
	g := func(x, y, z uint32) uint32 { return (x & y) + ((x ^ y) & z) }
	h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
	a, b, c, d := buf[0], buf[1], buf[2], buf[3]
	round := func(fn func(x, y, z uint32) uint32, a, b, c, d, x uint32, s int) uint32 {
		return bits.RotateLeft32(a+fn(b, c, d)+x, s)
	}
	a = round(f, a, b, c, d, in[0], 3)
	d = round(f, d, a, b, c, in[1], 7)
	c = round(f, c, d, a, b, in[2], 11)
	b = round(f, b, c, d, a, in[3], 19)
	a = round(f, a, b, c, d, in[4], 3)
	d = round(f, d, a, b, c, in[5], 7)
	c = round(f, c, d, a, b, in[6], 11)
	b = round(f, b, c, d, a, in[7], 19)

	a = round(g, a, b, c, d, in[1]+k2, 3)
	d = round(g, d, a, b, c, in[3]+k2, 5)
	c = round(g, c, d, a, b, in[5]+k2, 9)
	b = round(g, b, c, d, a, in[7]+k2, 13)
	a = round(g, a, b, c, d, in[0]+k2, 3)
	d = round(g, d, a, b, c, in[2]+k2, 5)
	c = round(g, c, d, a, b, in[4]+k2, 9)
	b = round(g, b, c, d, a, in[6]+k2, 13)

	a = round(h, a, b, c, d, in[3]+k3, 3)
	d = round(h, d, a, b, c, in[7]+k3, 9)
	c = round(h, c, d, a, b, in[2]+k3, 11)
	b = round(h, b, c, d, a, in[6]+k3, 15)
	a = round(h, a, b, c, d, in[1]+k3, 3)
	d = round(h, d, a, b, c, in[5]+k3, 9)
	c = round(h, c, d, a, b, in[0]+k3, 11)
	b = round(h, b, c, d, a, in[4]+k3, 15)

	buf[0] += a
	buf[1] += b
	buf[2] += c
	buf[3] += d
}

func teaTransform(buf *[4]uint32, in *[4]uint32) {
	const delta = 0x9E3779B9
	var sum uint32
	b0, b1 := buf[0], buf[1]
	a, b, c, d := in[0], in[1], in[2], in[3]
	for n := 0; n < 16; n++ {
		sum += delta
		b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b)
		b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d)
	}
	buf[0] += b0
	buf[1] += b1
}
