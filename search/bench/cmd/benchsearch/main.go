// Command benchsearch runs sweep's search benchmarks and writes the Markdown
// report (`make bench-search` writes docs/search-benchmarks.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

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
	flag.IntVar(&cfg.Parallel, "parallel", 0, "studies run at once (0 = GOMAXPROCS)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("create report: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := res.WriteMarkdown(w); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for m, n := range res.Claim() {
		fmt.Fprintf(os.Stderr, "%s beats random and goptuna TPE at 100 trials on %d of %d problems\n", m, n, len(res.Regret))
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", res.Elapsed.Round(1e9))
	return nil
}
