package tpe_test

import (
	"fmt"
	"testing"

	"github.com/c-bata/goptuna"
	gtpe "github.com/c-bata/goptuna/tpe"

	"sweep/search/searchtest"
	"sweep/search/tpe"
)

// BenchmarkSuggest measures one full suggestion (all eight params of
// searchtest.EightSpace for a new trial) against n finished trials, for our
// TPE in both modes and for goptuna's shipped TPE. The new trial is never
// stored, so the history stays at n.
func BenchmarkSuggest(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		for _, c := range []struct {
			name string
			new  func() goptuna.Sampler
		}{
			{"Univariate", func() goptuna.Sampler { return tpe.New(tpe.Options{Seed: 1}) }},
			{"Multivariate", func() goptuna.Sampler { return tpe.New(tpe.Options{Seed: 1, Multivariate: true}) }},
			{"Goptuna", func() goptuna.Sampler { return gtpe.NewSampler(gtpe.SamplerOptionSeed(1)) }},
		} {
			if c.name == "Goptuna" && n > 1000 {
				continue
			}
			b.Run(fmt.Sprintf("%s/trials=%d", c.name, n), func(b *testing.B) {
				s := c.new()
				study := searchtest.NewStudy(b, goptuna.StudyDirectionMinimize, s, nil, nil)
				if err := searchtest.FillHistory(study, n, 1); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					tr := goptuna.FrozenTrial{ID: n + 1 + i, Number: n + 1 + i}
					for _, name := range searchtest.EightNames {
						if _, err := s.Sample(study, tr, name, searchtest.EightSpace[name]); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
