package search_test

import (
	"errors"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search"
)

func TestNewSampler(t *testing.T) {
	params := []search.Param{{Name: "x", Type: search.Float, Low: 0, High: 1}}
	t.Run("Unknown", func(t *testing.T) {
		_, _, err := search.NewSampler(search.SamplerSpec{Type: "annealing"}, params, "s", 0)
		if !errors.Is(err, search.ErrUnknownSampler) {
			t.Fatalf("err = %v, want ErrUnknownSampler", err)
		}
	})
	for _, typ := range []string{"", "tpe", "random"} {
		s, _, err := search.NewSampler(search.SamplerSpec{Type: typ}, params, "s", 0)
		if err != nil || s == nil {
			t.Fatalf("type %q: sampler %v, err %v", typ, s, err)
		}
	}
}

func TestWorkerSeed(t *testing.T) {
	seed := int64(3)
	withSeed := search.SamplerSpec{Seed: &seed}
	if search.WorkerSeed(withSeed, "a", 0) != search.WorkerSeed(withSeed, "b", 0) {
		t.Fatal("explicit seed: study name changed the seed")
	}
	if search.WorkerSeed(withSeed, "a", 0) == search.WorkerSeed(withSeed, "a", 1) {
		t.Fatal("workers 0 and 1 share a seed")
	}
	if search.WorkerSeed(search.SamplerSpec{}, "a", 0) == search.WorkerSeed(search.SamplerSpec{}, "b", 0) {
		t.Fatal("no seed: studies a and b share a seed")
	}
}

func TestNewPruner(t *testing.T) {
	if p, err := search.NewPruner(search.PrunerSpec{}); p != nil || err != nil {
		t.Fatalf("none: got %v, %v; want nil, nil", p, err)
	}
	if _, err := search.NewPruner(search.PrunerSpec{Type: "oracle"}); !errors.Is(err, search.ErrUnknownPruner) {
		t.Fatalf("err = %v, want ErrUnknownPruner", err)
	}
	for _, typ := range []string{"median", "percentile"} {
		p, err := search.NewPruner(search.PrunerSpec{Type: typ})
		if err != nil || p == nil {
			t.Fatalf("%s: %v, %v", typ, p, err)
		}
		var _ goptuna.Pruner = p
	}
}
