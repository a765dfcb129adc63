package search_test

import (
	"slices"
	"strings"
	"testing"

	"sweep/search"
)

func TestParseSpec_Devices(t *testing.T) {
	parse := func(t *testing.T, extra string) *search.Spec {
		t.Helper()
		s, err := search.ParseSpec("s.yaml", []byte(base+extra))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("Auto", func(t *testing.T) {
		s := parse(t, "devices: auto\n")
		if s.Devices != nil || s.DevicesCPU || s.TrialsPerDevice != 0 || s.CPUFallback {
			t.Errorf("spec = %+v, want auto with no companions", s)
		}
	})
	t.Run("CPU", func(t *testing.T) {
		s := parse(t, "devices: cpu\n")
		if !s.DevicesCPU || s.Devices != nil {
			t.Errorf("DevicesCPU %v Devices %v, want true nil", s.DevicesCPU, s.Devices)
		}
	})
	t.Run("ListAndCompanions", func(t *testing.T) {
		s := parse(t, "devices: [0, 1]\ntrials_per_device: 2\ntrial_memory_gb: 10.5\ncpu_fallback: true\n")
		if !slices.Equal(s.Devices, []int{0, 1}) || s.TrialsPerDevice != 2 || s.TrialMemoryGB != 10.5 || !s.CPUFallback {
			t.Errorf("spec = %+v", s)
		}
	})
	t.Run("NotInEquivalence", func(t *testing.T) {
		if !search.Equivalent(parse(t, ""), parse(t, "devices: cpu\ntrials_per_device: 3\ntrial_memory_gb: 2\ncpu_fallback: true\n")) {
			t.Error("device placement is per machine and must not change the study's identity")
		}
	})
}

func TestParseSpec_DevicesErrors(t *testing.T) {
	for _, tc := range []struct{ name, extra, want string }{
		{"PerDeviceZero", "trials_per_device: 0\n", "s.yaml:7: trials_per_device: must be between 1 and 64 (got 0)"},
		{"PerDeviceFloat", "trials_per_device: 1.5\n", "s.yaml:7: trials_per_device: must be an integer (got 1.5)"},
		{"Memory", "trial_memory_gb: -1\n", "s.yaml:7: trial_memory_gb: must be in (0, 4096] GiB (got -1)"},
		{"Fallback", "cpu_fallback: yes please\n", `s.yaml:7: cpu_fallback: must be true or false (got "yes please")`},
		{"DevicesWord", "devices: gpu\n", `s.yaml:7: devices: must be auto, cpu or a list of GPU ordinals such as [0, 1] (got "gpu")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := search.ParseSpec("s.yaml", []byte(base+tc.extra))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
