// Command benchsearch runs sweep's search benchmarks and writes the Markdown
// report (`make bench-search` writes docs/search-benchmarks.md, keeping the
// multi-objective section that `make bench-search-mo` put there).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"sweep/search/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchsearch:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := bench.DefaultConfig()
	out := flag.String("out", "docs/search-benchmarks.md", "report path (- for stdout)")
	flag.IntVar(&cfg.Seeds, "seeds", cfg.Seeds, "seeds per cell")
	flag.IntVar(&cfg.WideSeeds, "wide-seeds", cfg.WideSeeds, "seeds of the default-vs-newest-Optuna comparison (≤ -seeds: none)")
	flag.IntVar(&cfg.Parallel, "parallel", 0, "studies run at once (0 = GOMAXPROCS)")
	python := flag.String("python", "python3", "Python interpreter that runs Optuna")
	paths := flag.String("optuna", "-", "comma-separated PYTHONPATHs, one per Optuna to compare with (- = the interpreter's own optuna; empty = none)")
	flag.StringVar(&cfg.OptunaCache, "optuna-cache", "", "folder keeping Optuna's study results between runs (empty = rerun)")
	flag.Parse()
	cfg.Command = strings.Join(append([]string{"go run ./search/bench/cmd/benchsearch"}, os.Args[1:]...), " ")
	cfg.Optunas = bench.OptunaEnvs(*python, *paths)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	if err := res.WriteMarkdown(&doc); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if *out == "-" {
		if _, err := os.Stdout.Write(doc.Bytes()); err != nil {
			return err
		}
	} else {
		// The multi-objective section is benchmo's (make bench-search-mo):
		// keep the one the report already has.
		old, err := os.ReadFile(*out)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("read report: %w", err)
		}
		report := doc.String()
		if sec := bench.MOSection(string(old)); sec != "" {
			report = bench.SpliceMO(report, sec)
		}
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	for m, n := range res.Claim() {
		fmt.Fprintf(os.Stderr, "%s beats random and goptuna TPE at 100 trials on %d of %d problems\n", m, n, len(res.Regret))
	}
	for _, n := range res.Notes {
		fmt.Fprintln(os.Stderr, "benchsearch:", n)
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", res.Elapsed.Round(1e9))
	return nil
}
