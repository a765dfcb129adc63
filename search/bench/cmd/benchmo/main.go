// Command benchmo runs sweep's multi-objective search benchmark and writes
// its section of the benchmark report (`make bench-search-mo` replaces the
// section between bench.MOSectionStart and bench.MOSectionEnd in
// docs/search-benchmarks.md, or appends it).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"sweep/search/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchmo:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := bench.DefaultMOConfig()
	out := flag.String("out", "docs/search-benchmarks.md", "report to update (- for stdout)")
	flag.IntVar(&cfg.Seeds, "seeds", cfg.Seeds, "seeds per cell")
	flag.IntVar(&cfg.Parallel, "parallel", 0, "studies run at once (0 = GOMAXPROCS)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.RunMO(ctx, cfg)
	if err != nil {
		return err
	}
	var section bytes.Buffer
	if err := res.WriteMarkdown(&section); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if *out == "-" {
		_, err := os.Stdout.Write(section.Bytes())
		return err
	}
	old, err := os.ReadFile(*out)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read report: %w", err)
	}
	if err := os.WriteFile(*out, []byte(bench.SpliceMO(string(old), section.String())), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", res.Elapsed.Round(1e9))
	return nil
}
