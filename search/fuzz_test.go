package search_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sweep/search"
)

// FuzzParseSpec checks that no input panics, and that ParseSpec returns
// either a spec or a SpecErrors whose every problem names the file.
func FuzzParseSpec(f *testing.F) {
	for _, name := range []string{"demo.yaml", "broken.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := search.ParseSpec("f.yaml", data)
		if (s == nil) == (err == nil) {
			t.Fatalf("spec %v with error %v", s, err)
		}
		if err != nil {
			var list search.SpecErrors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is %T, not SpecErrors: %v", err, err)
			}
			for _, e := range list {
				if e.File != "f.yaml" || e.Err == nil {
					t.Fatalf("bad problem %+v", e)
				}
			}
			return
		}
		if s.Trials < 1 || s.Workers < 1 || len(s.Params) == 0 {
			t.Fatalf("invalid spec accepted: %+v", s)
		}
	})
}
