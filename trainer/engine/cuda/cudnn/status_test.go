package cudnn

import (
	"testing"

	"sweep/trainer/engine/cuda/internal/cheader"
)

// TestStatusText_Header checks every code of cuDNN 9's cudnnStatus_t
// (testdata/status.txt, from cudnn_graph.h) has its own name here, and that
// every name here has the header's value: 4001-4004 once carried the wrong
// names.
func TestStatusText_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/status.txt")
	for name, v := range header {
		if got := StatusText(Status(v)); got != name {
			t.Errorf("StatusText(%d) = %q, header says %s", v, got, name)
		}
	}
	for s, name := range statusNames {
		if v, ok := header[name]; !ok || v != int(s) {
			t.Errorf("statusNames[%d] = %s; header value %d (present %v)", s, name, v, ok)
		}
	}
}

func TestStatusText_Unknown(t *testing.T) {
	for s, want := range map[Status]string{
		3099: "cudnnStatus(3099, category CUDNN_STATUS_NOT_SUPPORTED)",
		4999: "cudnnStatus(4999, category CUDNN_STATUS_INTERNAL_ERROR)",
		77:   "cudnnStatus(77)",
	} {
		if got := StatusText(s); got != want {
			t.Errorf("StatusText(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestError_Error(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{Op: "cudnnConvolutionForward", Status: 4001, Name: StatusText(4001)},
			"cudnn: cudnnConvolutionForward: CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED (4001)"},
		{Error{Op: "cudnnCreate", Status: 1001, Name: StatusText(1001), Text: "CUDNN_STATUS_NOT_INITIALIZED"},
			"cudnn: cudnnCreate: CUDNN_STATUS_NOT_INITIALIZED (1001)"},
		{Error{Op: "x", Status: 3000, Name: StatusText(3000), Text: "no engine supports this shape"},
			"cudnn: x: CUDNN_STATUS_NOT_SUPPORTED (3000): no engine supports this shape"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

// TestEnums_Header pins the enumeration values passed to cuDNN to the
// headers' (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h of cuDNN 9.6).
func TestEnums_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/enums.txt")
	for name, got := range map[string]int{
		"CUDNN_DATA_FLOAT": Float, "CUDNN_DATA_HALF": Half, "CUDNN_DATA_BFLOAT16": BFloat16,
		"CUDNN_TENSOR_NCHW": NCHW, "CUDNN_TENSOR_NHWC": NHWC, "CUDNN_CROSS_CORRELATION": CrossCorrelation,
		"CUDNN_DEFAULT_MATH": DefaultMath, "CUDNN_TENSOR_OP_MATH": TensorOpMath, "CUDNN_FMA_MATH": FMAMath,
		"CUDNN_BATCHNORM_SPATIAL": BatchNormSpatial, "CUDNN_POOLING_MAX": PoolMax,
		"CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING": PoolAvgInclusive,
		"CUDNN_ACTIVATION_SIGMOID":                    ActSigmoid, "CUDNN_ACTIVATION_RELU": ActReLU, "CUDNN_ACTIVATION_SWISH": ActSwish,
	} {
		if want, ok := header[name]; !ok || got != want {
			t.Errorf("%s = %d here, %d in the header (present %v)", name, got, want, ok)
		}
	}
}
