package nvrtc

import (
	"testing"

	"sweep/trainer/engine/cuda/internal/cheader"
)

// TestResultName_Header checks ResultName against nvrtc.h's nvrtcResult
// (testdata/results.txt: CUDA 12.6, plus the codes CUDA 13 added).
func TestResultName_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/results.txt")
	for name, v := range header {
		if got := ResultName(v); got != name {
			t.Errorf("ResultName(%d) = %q, header says %s", v, got, name)
		}
	}
	if len(resultNames) != len(header) {
		t.Errorf("%d names here, %d in the header", len(resultNames), len(header))
	}
	if got := ResultName(99); got != "nvrtcResult(99)" {
		t.Errorf("ResultName(99) = %q", got)
	}
}
