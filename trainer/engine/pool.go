package engine

// MaxPool2d takes the maximum of each window.
type MaxPool2d struct {
	b        Backend
	desc     PoolDesc
	x, y, dx Tensor
	mode     Mode
}

// NewMaxPool2d returns a k×k max pool with the given stride (0: k) and
// padding.
func NewMaxPool2d(b Backend, k, stride, pad int) *MaxPool2d {
	return &MaxPool2d{b: b, desc: PoolDesc{KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}.Norm()}
}

// Forward: x (N,C,H,W) → y (N,C,P,Q).
func (m *MaxPool2d) Forward(x Tensor, mode Mode) Tensor {
	p, q := m.desc.OutSize(x.Dim(2), x.Dim(3))
	y := ensure(m.b, &m.y, Float32, Shape{x.Dim(0), x.Dim(1), p, q})
	m.b.MaxPoolForward(m.desc, x, y)
	m.x, m.mode = x, mode
	return y
}

// Backward: dy (N,C,P,Q) → dx (N,C,H,W), routed to each window's maximum.
func (m *MaxPool2d) Backward(dy Tensor) Tensor {
	needForward("MaxPool2d", m.x, m.mode)
	dx := ensure(m.b, &m.dx, Float32, m.x.Shape)
	m.b.MaxPoolBackward(m.desc, m.x, m.y, dy, dx)
	return dx
}

// Params returns nil.
func (m *MaxPool2d) Params() []*Param { return nil }

// AvgPool2d averages each window, counting padding in the divisor.
type AvgPool2d struct {
	b        Backend
	desc     PoolDesc
	x, y, dx Tensor
	mode     Mode
}

// NewAvgPool2d returns a k×k average pool with the given stride (0: k) and
// padding.
func NewAvgPool2d(b Backend, k, stride, pad int) *AvgPool2d {
	return &AvgPool2d{b: b, desc: PoolDesc{KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}.Norm()}
}

// Forward: x (N,C,H,W) → y (N,C,P,Q).
func (a *AvgPool2d) Forward(x Tensor, mode Mode) Tensor {
	p, q := a.desc.OutSize(x.Dim(2), x.Dim(3))
	y := ensure(a.b, &a.y, Float32, Shape{x.Dim(0), x.Dim(1), p, q})
	a.b.AvgPoolForward(a.desc, x, y)
	a.x, a.mode = x, mode
	return y
}

// Backward: dy (N,C,P,Q) → dx (N,C,H,W).
func (a *AvgPool2d) Backward(dy Tensor) Tensor {
	needForward("AvgPool2d", a.x, a.mode)
	dx := ensure(a.b, &a.dx, Float32, a.x.Shape)
	a.b.AvgPoolBackward(a.desc, dy, dx)
	return dx
}

// Params returns nil.
func (a *AvgPool2d) Params() []*Param { return nil }

// GlobalAvgPool averages each channel over H and W.
type GlobalAvgPool struct {
	b        Backend
	x, y, dx Tensor
	mode     Mode
}

// NewGlobalAvgPool returns a global average pool.
func NewGlobalAvgPool(b Backend) *GlobalAvgPool { return &GlobalAvgPool{b: b} }

// Forward: x (N,C,H,W) → y (N,C).
func (g *GlobalAvgPool) Forward(x Tensor, mode Mode) Tensor {
	y := ensure(g.b, &g.y, Float32, Shape{x.Dim(0), x.Dim(1)})
	g.b.GlobalAvgPoolForward(x, y)
	g.x, g.mode = x, mode
	return y
}

// Backward: dy (N,C) → dx (N,C,H,W).
func (g *GlobalAvgPool) Backward(dy Tensor) Tensor {
	needForward("GlobalAvgPool", g.x, g.mode)
	dx := ensure(g.b, &g.dx, Float32, g.x.Shape)
	g.b.GlobalAvgPoolBackward(dy, dx)
	return dx
}

// Params returns nil.
func (g *GlobalAvgPool) Params() []*Param { return nil }

// Output returns the last Forward's output.
func (m *MaxPool2d) Output() Tensor { return m.y }

// Output returns the last Forward's output.
func (a *AvgPool2d) Output() Tensor { return a.y }

// Output returns the last Forward's output.
func (g *GlobalAvgPool) Output() Tensor { return g.y }
