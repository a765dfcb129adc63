package prune

// NewMedian returns the median stopping rule: a trial is pruned when its best
// intermediate value is worse than the median of completed trials' values at
// the same step. It is a [Percentile] pruner at the 50th percentile; Optuna's
// defaults are startup 5, warmup 0, interval 1.
func NewMedian(startup, warmup, interval int) (*Percentile, error) {
	return NewPercentile(50, startup, warmup, interval)
}
