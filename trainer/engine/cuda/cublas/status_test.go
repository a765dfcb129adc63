package cublas

import (
	"testing"

	"sweep/trainer/engine/cuda/internal/cheader"
)

// TestStatus_Header checks the status names against cublas_api.h's
// cublasStatus_t (testdata/status.txt), both ways.
func TestStatus_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/status.txt")
	for name, v := range header {
		if got := Status(v).String(); got != name {
			t.Errorf("Status(%d) = %q, header says %s", v, got, name)
		}
	}
	if len(statusNames) != len(header) {
		t.Errorf("%d names here, %d in the header", len(statusNames), len(header))
	}
}

// TestEnums_Header pins the data, compute and math types and the GEMM
// algorithm passed to cuBLAS to library_types.h and cublas_api.h.
func TestEnums_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/enums.txt")
	for name, got := range map[string]int{
		"CUDA_R_32F": R32F, "CUDA_R_16F": R16F, "CUDA_R_16BF": R16BF,
		"CUBLAS_COMPUTE_32F": Compute32F, "CUBLAS_COMPUTE_32F_PEDANTIC": Compute32FPedantic,
		"CUBLAS_COMPUTE_32F_FAST_16BF": Compute32FFast16BF, "CUBLAS_COMPUTE_32F_FAST_TF32": Compute32FFastTF32,
		"CUBLAS_GEMM_DEFAULT": gemmDefault, "CUBLAS_DEFAULT_MATH": DefaultMath,
		"CUBLAS_PEDANTIC_MATH": PedanticMath, "CUBLAS_TF32_TENSOR_OP_MATH": TF32TensorMath,
	} {
		if want, ok := header[name]; !ok || got != want {
			t.Errorf("%s = %d here, %d in the header (present %v)", name, got, want, ok)
		}
	}
}
