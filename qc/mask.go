package qc

import "math/bits"

// Mask is one frame of one segment as a packed bitmap: pixel (r, c) is bit
// r*Columns+c, counted from the least significant bit of Bits[0]. Keeping
// masks packed holds a 512x512 frame in 32 KiB.
type Mask struct {
	Rows    int
	Columns int
	Bits    []uint64
}

// NewMask returns an empty mask of rows x columns pixels.
func NewMask(rows, columns int) *Mask {
	m := &Mask{}
	m.Reset(rows, columns)
	return m
}

// Reset resizes m to rows x columns and clears every pixel, reusing its
// storage when it is large enough.
func (m *Mask) Reset(rows, columns int) {
	n := (rows*columns + 63) / 64
	if cap(m.Bits) >= n {
		m.Bits = m.Bits[:n]
		clear(m.Bits)
	} else {
		m.Bits = make([]uint64, n)
	}
	m.Rows, m.Columns = rows, columns
}

// At reports whether pixel (r, c) is set. It is false outside the mask.
func (m *Mask) At(r, c int) bool {
	if r < 0 || c < 0 || r >= m.Rows || c >= m.Columns {
		return false
	}
	i := r*m.Columns + c
	return m.Bits[i>>6]&(1<<(uint(i)&63)) != 0
}

// Set sets pixel (r, c). It panics outside the mask, as a slice index would.
func (m *Mask) Set(r, c int) {
	i := r*m.Columns + c
	m.Bits[i>>6] |= 1 << (uint(i) & 63)
}

// Count returns the number of set pixels.
func (m *Mask) Count() int {
	n := 0
	for _, w := range m.Bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// Empty reports whether no pixel is set.
func (m *Mask) Empty() bool {
	for _, w := range m.Bits {
		if w != 0 {
			return false
		}
	}
	return true
}
