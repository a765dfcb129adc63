package cpu

// maxBack2x2AVX512 is maxBack2x2's loop over one output row of q windows
// (pool_amd64.s); it needs hasAVX512.
//
//go:noescape
func maxBack2x2AVX512(r0, r1, y, dy, d0, d1 *float32, q int)
