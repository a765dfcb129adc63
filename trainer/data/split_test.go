package data

import (
	"slices"
	"testing"
)

func TestNewSplit(t *testing.T) {
	ds := loadSlice(t, 1000)
	for _, mode := range []string{"stratified", "uniform"} {
		t.Run(mode, func(t *testing.T) {
			cfg := SplitConfig{ValSize: 200, Seed: 7, Mode: mode}
			s, err := NewSplit(ds.Labels, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Val) != 200 || len(s.Train) != 800 {
				t.Fatalf("sizes %d/%d, want 800/200", len(s.Train), len(s.Val))
			}
			seen := make([]int, ds.Len())
			for _, i := range append(slices.Clone(s.Train), s.Val...) {
				seen[i]++
			}
			for i, n := range seen {
				if n != 1 {
					t.Fatalf("image %d appears %d times across train and val", i, n)
				}
			}
			again, _ := NewSplit(ds.Labels, cfg)
			if !slices.Equal(again.Val, s.Val) {
				t.Error("same seed gave a different split")
			}
			cfg.Seed = 8
			other, _ := NewSplit(ds.Labels, cfg)
			if slices.Equal(other.Val, s.Val) {
				t.Error("different seeds gave the same split")
			}
		})
	}
}

func TestNewSplit_Stratified(t *testing.T) {
	ds := loadSlice(t, 1000)
	s, err := NewSplit(ds.Labels, SplitConfig{ValSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var all, val [NumClasses]int
	for _, l := range ds.Labels {
		all[l]++
	}
	for _, i := range s.Val {
		val[ds.Labels[i]]++
	}
	for c := range all {
		// Each class keeps its share: round(100·n_c/1000) up to rounding.
		want := float64(all[c]) / 10
		if d := float64(val[c]) - want; d > 1 || d < -1 {
			t.Errorf("class %d: %d of %d in val, want %.1f±1", c, val[c], all[c], want)
		}
	}
}

func TestNewSplit_Defaults(t *testing.T) {
	labels := make([]uint8, 50000)
	for i := range labels {
		labels[i] = uint8(i % NumClasses)
	}
	s, err := NewSplit(labels, SplitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Val) != DefaultValSize {
		t.Errorf("default val size = %d, want %d", len(s.Val), DefaultValSize)
	}
	var per [NumClasses]int
	for _, i := range s.Val {
		per[labels[i]]++
	}
	for c, n := range per {
		if n != 500 {
			t.Errorf("class %d has %d val images, want exactly 500", c, n)
		}
	}
	if _, err := NewSplit(labels[:10], SplitConfig{ValSize: 10}); err == nil {
		t.Error("val_size = n accepted")
	}
	if _, err := NewSplit(labels, SplitConfig{Mode: "random"}); err == nil {
		t.Error("unknown mode accepted")
	}
	none, _ := NewSplit(labels[:20], SplitConfig{ValSize: -1})
	if len(none.Val) != 0 || len(none.Train) != 20 {
		t.Errorf("val_size -1 gave %d/%d", len(none.Train), len(none.Val))
	}
}
