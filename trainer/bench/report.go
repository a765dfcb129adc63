package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints r for people: the per-layer table, then the totals.
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "model %s, batch %d, %d steps, backend %s, %d threads", r.Model, r.Batch, r.Steps, r.Backend, r.Threads)
	if r.Precision != "" {
		fmt.Fprintf(w, ", %s", r.Precision)
	}
	fmt.Fprintf(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\tforward ms\tbackward ms\t\n")
	var f, bw float64
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t\n", l.Name, l.ForwardMS, l.BackwardMS)
		f += l.ForwardMS
		bw += l.BackwardMS
	}
	fmt.Fprintf(tw, "total\t%.2f\t%.2f\t\n", f, bw)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nstep             %.1f ms (incl. loss, zero-grad, SGD)\n", r.StepMS)
	fmt.Fprintf(w, "CPU time         %.1f ms per step, all threads (%.0f%% of %d threads' wall time)\n",
		r.CPUMSPerStep, 100*r.CPUMSPerStep/(r.StepMS*float64(r.Threads)), r.Threads)
	fmt.Fprintf(w, "training         %.0f img/s\n", r.ImgPerS)
	fmt.Fprintf(w, "FLOPs per image  %.1f M forward, %.1f M training\n", float64(r.FwdFLOPsImg)/1e6, float64(r.TrainFLOPsImg)/1e6)
	fmt.Fprintf(w, "achieved         %.1f GFLOP/s\n", r.TrainGFLOPs)
	if r.SGEMMGFLOPs > 0 {
		fmt.Fprintf(w, "SGEMM 1024³      %.1f GFLOP/s (same backend, same run)\n", r.SGEMMGFLOPs)
		fmt.Fprintf(w, "ratio            %.3f (per CPU-second: %.3f)\n", r.Ratio, r.CPURatio)
	}
	if r.GEMMGFLOPs > 0 {
		fmt.Fprintf(w, "%-4s GEMM 1024³  %.1f GFLOP/s (same backend, same run)\n", r.Precision, r.GEMMGFLOPs)
		fmt.Fprintf(w, "ratio to it      %.3f\n", r.GEMMRatio)
	}
	fmt.Fprintf(w, "allocs per step  %.1f\n", r.AllocsPerStep)
	_, err := fmt.Fprintf(w, "peak RSS         %.0f MiB\n", r.PeakRSSMB)
	return err
}
