package engine

// Residual is a residual block, y = act(Body(x) + Shortcut(x)), with the
// identity when Shortcut is nil and an optional ReLU after the sum (fused
// when the backend implements AddReLUForwarder).
type Residual struct {
	b        Backend
	Body     Layer
	Shortcut Layer // nil: identity
	ReLU     bool

	y, dsum, dx Tensor
	mode        Mode
	ran         bool
}

// NewResidual returns the block body + shortcut. The layers inside may
// reuse their output buffers for gradients (see recycler); the block's own
// output stays valid after Backward.
func NewResidual(b Backend, body, shortcut Layer, relu bool) *Residual {
	markInternal(body)
	if shortcut != nil {
		markInternal(shortcut)
	}
	return &Residual{b: b, Body: body, Shortcut: shortcut, ReLU: relu}
}

// Forward: x (N,C,H,W) → y (N,K,P,Q), the shape of Body's output.
func (r *Residual) Forward(x Tensor, mode Mode) Tensor {
	yb := r.Body.Forward(x, mode)
	ys := x
	if r.Shortcut != nil {
		ys = r.Shortcut.Forward(x, mode)
	}
	SameShape("Residual", yb, ys)
	y := ensure(r.b, &r.y, Float32, yb.Shape)
	switch f, ok := r.b.(AddReLUForwarder); {
	case r.ReLU && ok:
		f.AddReLU(yb, ys, y)
	case r.ReLU:
		r.b.Add(yb, ys, y)
		r.b.ActForward(ReLU, y, y)
	default:
		r.b.Add(yb, ys, y)
	}
	r.mode, r.ran = mode, true
	return y
}

// Backward: dy → dx = Body'ᵀ·d + Shortcut'ᵀ·d, d = dy masked by the ReLU.
func (r *Residual) Backward(dy Tensor) Tensor {
	if !r.ran {
		panic("engine: Residual: Backward before Forward")
	}
	needForward("Residual", dy, r.mode)
	d := dy
	if r.ReLU {
		d = ensure(r.b, &r.dsum, Float32, dy.Shape)
		r.b.ActBackward(ReLU, r.y, r.y, dy, d)
	}
	db := r.Body.Backward(d)
	ds := d
	if r.Shortcut != nil {
		ds = r.Shortcut.Backward(d)
	}
	dx := ensure(r.b, &r.dx, Float32, db.Shape)
	r.b.Add(db, ds, dx)
	return dx
}

// Params returns the body's parameters, then the shortcut's.
func (r *Residual) Params() []*Param {
	ps := r.Body.Params()
	if r.Shortcut != nil {
		ps = append(ps, r.Shortcut.Params()...)
	}
	return ps
}

// Buffers returns the body's buffers, then the shortcut's.
func (r *Residual) Buffers() []*Param {
	ps := Buffers(r.Body)
	if r.Shortcut != nil {
		ps = append(ps, Buffers(r.Shortcut)...)
	}
	return ps
}

// Output returns the last Forward's output (after the ReLU, if any).
func (r *Residual) Output() Tensor { return r.y }
