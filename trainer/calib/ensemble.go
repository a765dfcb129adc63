package calib

import "fmt"

// AverageProbs combines the logits of several models by averaging their
// softmax probabilities; the result is N×k probabilities, with predictions
// from [Argmax]. Averaging probabilities rather than logits keeps one
// over-confident member from dominating.
func AverageProbs(members [][]float32, k int) []float32 {
	probs := make([][]float32, len(members))
	for i, m := range members {
		probs[i] = Softmax(m, k)
	}
	return MeanLogits(probs)
}

// MajorityVote returns, for every example, the class most members predict
// (their argmax). A tie between classes goes to the tied class with the
// highest averaged probability, so the vote is deterministic and breaks ties
// the way an uncertain committee would.
func MajorityVote(members [][]float32, k int) []int32 {
	if len(members) == 0 {
		return nil
	}
	n := checkShape(members[0], k, nil)
	preds := make([][]int32, len(members))
	for i, m := range members {
		if len(m) != len(members[0]) {
			panic(fmt.Sprintf("calib: ensemble member %d has %d logits, member 0 has %d", i, len(m), len(members[0])))
		}
		preds[i] = Argmax(m, k)
	}
	avg := AverageProbs(members, k)
	out := make([]int32, n)
	votes := make([]int, k)
	for i := 0; i < n; i++ {
		clear(votes)
		for _, p := range preds {
			votes[p[i]]++
		}
		best := 0
		for c := 1; c < k; c++ {
			if votes[c] > votes[best] || (votes[c] == votes[best] && avg[i*k+c] > avg[i*k+best]) {
				best = c
			}
		}
		out[i] = int32(best)
	}
	return out
}
