package qc

import "encoding/binary"

// unpackBits copies n bits of src, starting at bit offset bit (0 to 7) of
// src[0], LSB first, into dst from bit 0. Both orders agree: bit j of a
// little endian 64-bit word is bit j%8 of its byte j/8, so whole words are
// loaded at once, and shifted when the frame starts inside a byte. src must
// hold ceil((bit+n)/8) bytes; dst ceil(n/64) words.
func unpackBits(dst []uint64, src []byte, bit, n int) {
	words := n / 64
	if bit == 0 {
		for w := range words {
			dst[w] = binary.LittleEndian.Uint64(src[8*w:])
		}
	} else {
		// A full word starting at bit 8w+bit spans bytes 8w to 8w+8.
		sh := uint(bit)
		for w := range words {
			o := 8 * w
			dst[w] = binary.LittleEndian.Uint64(src[o:])>>sh | uint64(src[o+8])<<(64-sh)
		}
	}
	if rem := n % 64; rem > 0 {
		dst[words] = loadBits(src, 64*words+bit, rem)
	}
}

// loadBits returns count (at most 64) bits of src from bit offset pos.
func loadBits(src []byte, pos, count int) uint64 {
	var v uint64
	for k := 0; k < count; {
		b := src[(pos+k)/8] >> uint((pos+k)%8)
		take := min(8-(pos+k)%8, count-k)
		v |= uint64(b&(1<<uint(take)-1)) << uint(k)
		k += take
	}
	return v
}

// invertMask flips every pixel of m.
func invertMask(m *Mask) {
	n := m.Rows * m.Columns
	for w := range m.Bits {
		m.Bits[w] = ^m.Bits[w]
	}
	if rem := n % 64; rem > 0 {
		m.Bits[len(m.Bits)-1] &= 1<<uint(rem) - 1
	}
}

// maskNonZero sets in dst the pixels of an 8- or 16-bit frame whose value
// is above 0. dst must be clear.
func maskNonZero(dst []uint64, src []byte, bits, n int) {
	if bits == 16 {
		for p := range n {
			if src[2*p]|src[2*p+1] != 0 {
				dst[p>>6] |= 1 << uint(p&63)
			}
		}
		return
	}
	for p, v := range src[:n] {
		if v != 0 {
			dst[p>>6] |= 1 << uint(p&63)
		}
	}
}

// maskEqual sets in dst the pixels of an 8- or 16-bit frame whose value is
// v. dst must be clear.
func maskEqual(dst []uint64, src []byte, bits, n int, v uint16) {
	if bits == 16 {
		for p := range n {
			if binary.LittleEndian.Uint16(src[2*p:]) == v {
				dst[p>>6] |= 1 << uint(p&63)
			}
		}
		return
	}
	if v > 0xFF {
		return
	}
	b := byte(v)
	for p, x := range src[:n] {
		if x == b {
			dst[p>>6] |= 1 << uint(p&63)
		}
	}
}

// frameValues writes the n stored values of a frame into dst.
func frameValues(dst []uint16, src []byte, bit, bits int) {
	switch bits {
	case 1:
		for p := range dst {
			q := bit + p
			dst[p] = uint16(src[q>>3]>>uint(q&7)) & 1
		}
	case 8:
		for p := range dst {
			dst[p] = uint16(src[p])
		}
	default:
		for p := range dst {
			dst[p] = binary.LittleEndian.Uint16(src[2*p:])
		}
	}
}
