package calib

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// twoClass returns logits whose softmax puts probability p on class 0.
func twoClass(p float64) []float32 {
	return []float32{float32(math.Log(p)), float32(math.Log(1 - p))}
}

func TestNLL_Uniform(t *testing.T) {
	got := NLL([]float32{0, 0, 0, 3, 3, 3}, 3, []int32{0, 2}, 1)
	if math.Abs(got-math.Log(3)) > 1e-9 {
		t.Fatalf("NLL = %g, want ln 3", got)
	}
}

func TestECE_KnownCase(t *testing.T) {
	var logits []float32
	for _, p := range []float64{0.9, 0.9, 0.55, 0.55} {
		logits = append(logits, twoClass(p)...)
	}
	// Bin of 0.9: one right, one wrong → 2/4·|0.5-0.9| = 0.2.
	// Bin of 0.55: both right → 2/4·|1-0.55| = 0.225.
	labels := []int32{0, 1, 0, 0}
	if got := ECE(logits, 2, labels, 1, 15); math.Abs(got-0.425) > 1e-6 {
		t.Fatalf("ECE = %g, want 0.425", got)
	}
	// One bin: |accuracy − mean confidence| = |0.75 − 0.725|.
	if got := ECE(logits, 2, labels, 1, 1); math.Abs(got-0.025) > 1e-6 {
		t.Fatalf("ECE(1 bin) = %g, want 0.025", got)
	}
}

// miscalibrated draws labels from softmax(z) for random z, then returns
// scale·z as logits: over-confident for scale > 1.
func miscalibrated(n, k int, scale float64) ([]float32, []int32) {
	rng := rand.New(rand.NewPCG(7, 11))
	logits := make([]float32, n*k)
	labels := make([]int32, n)
	p := make([]float64, k)
	for i := 0; i < n; i++ {
		row := logits[i*k : (i+1)*k]
		for j := range row {
			row[j] = float32(rng.NormFloat64() * 1.5)
		}
		softmaxRow(p, row, 1)
		u, c := rng.Float64(), 0
		for c < k-1 && u > p[c] {
			u -= p[c]
			c++
		}
		labels[i] = int32(c)
		for j := range row {
			row[j] *= float32(scale)
		}
	}
	return logits, labels
}

func TestCalibrate_ReducesNLL(t *testing.T) {
	logits, labels := miscalibrated(4000, 10, 3)
	c, err := Calibrate(logits, 10, labels)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("T=%.3f NLL %.4f → %.4f, ECE %.4f → %.4f", c.Temperature, c.NLLBefore, c.NLLAfter, c.ECEBefore, c.ECEAfter)
	if c.Temperature < 2.5 || c.Temperature > 3.5 {
		t.Errorf("temperature %g, want near the true 3", c.Temperature)
	}
	if c.NLLAfter >= c.NLLBefore {
		t.Errorf("NLL not reduced: %g → %g", c.NLLBefore, c.NLLAfter)
	}
	if c.ECEAfter >= c.ECEBefore/2 {
		t.Errorf("ECE not halved: %g → %g", c.ECEBefore, c.ECEAfter)
	}
	// The fitted T is a minimum: nudging it either way costs NLL.
	for _, f := range []float64{0.97, 1.03} {
		if NLL(logits, 10, labels, c.Temperature*f) < c.NLLAfter {
			t.Errorf("NLL at %g·T below NLL at T", f)
		}
	}
}

func TestCalibrate_UnderConfident(t *testing.T) {
	logits, labels := miscalibrated(4000, 10, 0.5)
	tmp, err := FitTemperature(logits, 10, labels)
	if err != nil {
		t.Fatal(err)
	}
	if tmp < 0.4 || tmp > 0.6 {
		t.Fatalf("temperature %g, want near 0.5", tmp)
	}
}

func TestFitTemperature_Empty(t *testing.T) {
	if _, err := FitTemperature(nil, 10, nil); !errors.Is(err, ErrNoExamples) {
		t.Fatalf("err = %v, want ErrNoExamples", err)
	}
}

func TestTTA_Views(t *testing.T) {
	if n := len(TTA{}.Views()); n != 1 {
		t.Errorf("zero TTA: %d views, want 1", n)
	}
	if n := len((TTA{Flip: true, Translations: 2}).Views()); n != 6 {
		t.Errorf("flip + 2 translations: %d views, want 6", n)
	}
	if n := len((TTA{Translations: 99}).Views()); n != 1+MaxTranslations {
		t.Errorf("capped translations: %d views, want %d", n, 1+MaxTranslations)
	}
}

func TestView_Apply(t *testing.T) {
	// One 3×4 plane, values 10·y + x.
	src := []float32{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}
	dst := make([]float32, len(src))
	check := func(name string, v View, want []float32) {
		t.Helper()
		v.Apply(dst, src, 1, 1, 3, 4)
		for i := range want {
			if dst[i] != want[i] {
				t.Fatalf("%s: got %v, want %v", name, dst, want)
			}
		}
	}
	check("Identity", View{}, src)
	check("Flip", View{Flip: true}, []float32{3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20})
	check("Right", View{DX: 1}, []float32{1, 0, 1, 2, 11, 10, 11, 12, 21, 20, 21, 22})
	check("Up", View{DY: -1}, []float32{10, 11, 12, 13, 20, 21, 22, 23, 10, 11, 12, 13})
}

func TestMeanLogits(t *testing.T) {
	got := MeanLogits([][]float32{{1, 2}, {3, 6}})
	if got[0] != 2 || got[1] != 4 {
		t.Fatalf("mean = %v, want [2 4]", got)
	}
}

func TestMajorityVote(t *testing.T) {
	// Three members, three classes, two examples.
	a := []float32{5, 0, 0, 0, 9, 0}   // votes 0, 1
	b := []float32{0, 5, 0, 0, 0, 1}   // votes 1, 2
	c := []float32{4, 0, 0, 0, 0, 1.1} // votes 0, 2
	got := MajorityVote([][]float32{a, b, c}, 3)
	// Example 0: class 0 has two votes (a, c). Example 1: class 2 has two
	// (b, c) against one for class 1, although a's class-1 logit is largest.
	if got[0] != 0 || got[1] != 2 {
		t.Fatalf("vote = %v, want [0 2]", got)
	}
	// A 1-1 tie goes to the higher averaged probability: member y is far
	// surer of class 2 than member x is of class 0.
	x := []float32{0.1, 0, 0}
	y := []float32{0, 0, 8}
	if got := MajorityVote([][]float32{x, y}, 3); got[0] != 2 {
		t.Fatalf("tie vote = %d, want 2", got[0])
	}
}

func TestAverageProbs(t *testing.T) {
	ln3 := float32(math.Log(3))
	got := AverageProbs([][]float32{{ln3, 0}, {0, 0}}, 2) // probs (.75,.25) and (.5,.5)
	if math.Abs(float64(got[0])-0.625) > 1e-6 || math.Abs(float64(got[1])-0.375) > 1e-6 {
		t.Fatalf("avg probs = %v, want [0.625 0.375]", got)
	}
	if acc := Accuracy(Argmax(got, 2), []int32{0}); acc != 1 {
		t.Fatalf("accuracy %g, want 1", acc)
	}
}

// Level 2 reproduces airbench94's infer_mirror_translate: the image and its
// mirror (weight 1/4 each), and the crops [0:h, 0:w] and [2:h+2, 2:w+2] of
// the reflect-padded image, each also mirrored (1/8 each), built here the
// way airbench builds them: pad, crop, then flip.
func TestTTA_Level2(t *testing.T) {
	const h, w = 4, 5
	src := make([]float32, h*w)
	for i := range src {
		src[i] = float32(i*i%17) + 0.5*float32(i)
	}
	reflect := func(i, n int) int { // reflect padding by one pixel
		switch {
		case i < 0:
			return -i
		case i >= n:
			return 2*(n-1) - i
		}
		return i
	}
	crop := func(off int) []float32 { // padded[off:off+h, off:off+w]
		out := make([]float32, h*w)
		for y := range h {
			for x := range w {
				out[y*w+x] = src[reflect(y+off-1, h)*w+reflect(x+off-1, w)]
			}
		}
		return out
	}
	mirror := func(img []float32) []float32 {
		out := make([]float32, len(img))
		for y := range h {
			for x := range w {
				out[y*w+x] = img[y*w+w-1-x]
			}
		}
		return out
	}
	want := [][]float32{src, mirror(src), crop(0), mirror(crop(0)), crop(2), mirror(crop(2))}
	tta := TTA{Level: 2, Flip: false, Translations: 7} // Level wins
	views := tta.Views()
	if len(views) != len(want) {
		t.Fatalf("%d views, want %d", len(views), len(want))
	}
	dst := make([]float32, h*w)
	for i, v := range views {
		v.Apply(dst, src, 1, 1, h, w)
		for k := range dst {
			if dst[k] != want[i][k] {
				t.Fatalf("view %d %+v: got %v, want %v", i, v, dst, want[i])
			}
		}
	}
	wts, sum := tta.Weights(), 0.0
	for i, x := range wts {
		sum += x
		if wantW := map[bool]float64{true: 0.25, false: 0.125}[i < 2]; x != wantW {
			t.Fatalf("weights %v, want [1/4 1/4 1/8 1/8 1/8 1/8]", wts)
		}
	}
	if sum != 1 || len((TTA{Level: 1}).Views()) != 2 {
		t.Fatalf("weights sum %g, level 1 has %d views", sum, len((TTA{Level: 1}).Views()))
	}
	got := WeightedLogits([][]float32{{4}, {8}}, []float64{0.25, 0.75})
	if got[0] != 7 {
		t.Fatalf("WeightedLogits = %v, want [7]", got)
	}
}
