package driver

import (
	"testing"

	"sweep/trainer/engine/cuda/internal/cheader"
)

// TestResultName_Header checks every CUresult named here against cuda.h
// (testdata/results.txt); the table is a subset, the driver names the rest.
func TestResultName_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/results.txt")
	byValue := cheader.Names(header)
	for r, name := range resultNames {
		if byValue[int(r)] != name {
			t.Errorf("resultNames[%d] = %s, cuda.h has %q there", r, name, byValue[int(r)])
		}
	}
	for _, r := range []Result{Success, ErrOutOfMemory, ErrStubLibrary, ErrNoDevice, ErrInvalidPTX, ErrUnsupportPTX, ErrNotReady} {
		if _, ok := byValue[int(r)]; !ok || ResultName(r) != byValue[int(r)] {
			t.Errorf("constant %d: ResultName %q, cuda.h %q", r, ResultName(r), byValue[int(r)])
		}
	}
	if got := ResultName(35); got != "CUresult(35)" {
		t.Errorf("ResultName(35) = %q: 35 is a runtime-API code, no CUresult", got)
	}
}

// TestEnums_Header pins the device attributes and stream flag to cuda.h.
func TestEnums_Header(t *testing.T) {
	header := cheader.Values(t, "testdata/enums.txt")
	for name, got := range map[string]int{
		"CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT":     attrMultiprocessorCount,
		"CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR": attrComputeMajor,
		"CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR": attrComputeMinor,
		"CU_STREAM_NON_BLOCKING":                       streamNonBlocking,
	} {
		if want, ok := header[name]; !ok || got != want {
			t.Errorf("%s = %d here, %d in cuda.h (present %v)", name, got, want, ok)
		}
	}
}
