// Package calib measures and improves what a trained classifier's outputs
// mean: negative log-likelihood and expected calibration error, temperature
// scaling fitted on the validation split, test-time augmentation and
// ensembles of checkpoints.
//
// Everything here works on plain logits in host memory, row-major (N, K):
// row i holds the K class scores of example i. Producing the logits (running
// a model on augmented views or on several checkpoints) is the trainer's
// job; this package only combines and scores them, so it needs no engine.
package calib

import (
	"fmt"
	"math"
)

// checkShape panics when logits is not N×k for the given labels: a shape
// mismatch here is a programmer error, not bad input.
func checkShape(logits []float32, k int, labels []int32) int {
	if k <= 0 || len(logits)%k != 0 {
		panic(fmt.Sprintf("calib: %d logits do not form rows of %d classes", len(logits), k))
	}
	n := len(logits) / k
	if labels != nil && len(labels) != n {
		panic(fmt.Sprintf("calib: %d logit rows but %d labels", n, len(labels)))
	}
	return n
}

// softmaxRow writes softmax(row/temp) into p, in float64 for stable sums,
// and returns log of the normaliser (log Σ exp(row/temp)).
func softmaxRow(p []float64, row []float32, temp float64) (logZ float64) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v)/temp)
	}
	var z float64
	for j, v := range row {
		p[j] = math.Exp(float64(v)/temp - m)
		z += p[j]
	}
	for j := range p {
		p[j] /= z
	}
	return m + math.Log(z)
}

// Softmax returns the class probabilities of every row of logits at
// temperature 1, as a new N×k slice.
func Softmax(logits []float32, k int) []float32 {
	n := checkShape(logits, k, nil)
	out := make([]float32, len(logits))
	p := make([]float64, k)
	for i := 0; i < n; i++ {
		softmaxRow(p, logits[i*k:(i+1)*k], 1)
		for j, v := range p {
			out[i*k+j] = float32(v)
		}
	}
	return out
}

// Argmax returns the highest-scoring class of every row (the lowest index on
// ties).
func Argmax(scores []float32, k int) []int32 {
	n := checkShape(scores, k, nil)
	out := make([]int32, n)
	for i := 0; i < n; i++ {
		row := scores[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = int32(best)
	}
	return out
}

// Accuracy returns the share of predictions equal to their labels; 0 for no
// examples.
func Accuracy(pred, labels []int32) float64 {
	if len(pred) != len(labels) {
		panic(fmt.Sprintf("calib: %d predictions but %d labels", len(pred), len(labels)))
	}
	if len(pred) == 0 {
		return 0
	}
	hit := 0
	for i, p := range pred {
		if p == labels[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(pred))
}

// NLL returns the mean negative log-likelihood of labels under
// softmax(logits/temp), in nats per example.
func NLL(logits []float32, k int, labels []int32, temp float64) float64 {
	n := checkShape(logits, k, labels)
	if n == 0 {
		return 0
	}
	p := make([]float64, k)
	var sum float64
	for i := 0; i < n; i++ {
		row := logits[i*k : (i+1)*k]
		logZ := softmaxRow(p, row, temp)
		sum += logZ - float64(row[labels[i]])/temp
	}
	return sum / float64(n)
}

// ECE returns the expected calibration error of softmax(logits/temp) with
// bins equal-width confidence bins over (0,1]:
// Σ_b |B_b|/N · |accuracy(B_b) − mean confidence(B_b)|, where an example's
// confidence is its top class probability (Guo et al. 2017 use 15 bins).
func ECE(logits []float32, k int, labels []int32, temp float64, bins int) float64 {
	n := checkShape(logits, k, labels)
	if n == 0 || bins <= 0 {
		return 0
	}
	count := make([]int, bins)
	conf := make([]float64, bins)
	hits := make([]float64, bins)
	p := make([]float64, k)
	for i := 0; i < n; i++ {
		softmaxRow(p, logits[i*k:(i+1)*k], temp)
		best := 0
		for j, v := range p {
			if v > p[best] {
				best = j
			}
		}
		b := int(math.Ceil(p[best]*float64(bins))) - 1 // bin b covers (b/bins, (b+1)/bins]
		b = min(max(b, 0), bins-1)
		count[b]++
		conf[b] += p[best]
		if int32(best) == labels[i] {
			hits[b]++
		}
	}
	var ece float64
	for b := range count {
		if count[b] > 0 {
			ece += math.Abs(hits[b]-conf[b]) / float64(n)
		}
	}
	return ece
}
