package engine

// ForwardFLOPs returns the floating-point operations (2 per multiply-add)
// of the convolutions and linear layers inside l for one sample, using the
// input sizes of l's last Forward. Elementwise work is not counted, as in
// the usual "FLOPs of a CNN" tables. Layer types it does not know count 0.
func ForwardFLOPs(l Layer) int {
	switch v := l.(type) {
	case *Sequential:
		n := 0
		for _, c := range v.Layers {
			n += ForwardFLOPs(c)
		}
		return n
	case *Residual:
		n := ForwardFLOPs(v.Body)
		if v.Shortcut != nil {
			n += ForwardFLOPs(v.Shortcut)
		}
		return n
	case *SE:
		return ForwardFLOPs(v.fc1) + ForwardFLOPs(v.fc2)
	case *Conv2d:
		if v.x.IsZero() {
			return 0
		}
		return v.FLOPs(v.x.Dim(2), v.x.Dim(3))
	case *Linear:
		return v.FLOPs()
	case interface{ Unwrap() Layer }:
		return ForwardFLOPs(v.Unwrap())
	}
	return 0
}
