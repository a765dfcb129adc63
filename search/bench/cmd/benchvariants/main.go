// Command benchvariants compares TPE settings with the newest Optuna on 155
// seeds and writes docs/search-variants.md (`make bench-search-variants`):
// the evidence behind sweep's TPE defaults.
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
		fmt.Fprintln(os.Stderr, "benchvariants:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := bench.DefaultVariantConfig()
	out := flag.String("out", "docs/search-variants.md", "report path (- for stdout)")
	flag.IntVar(&cfg.Seeds, "seeds", cfg.Seeds, "seeds per problem")
	flag.IntVar(&cfg.FromSeed, "from-seed", cfg.FromSeed, "first seed the ratios use")
	flag.IntVar(&cfg.Parallel, "parallel", 0, "studies run at once (0 = GOMAXPROCS)")
	python := flag.String("python", "python3", "Python interpreter that runs Optuna")
	paths := flag.String("optuna", "-", "comma-separated PYTHONPATHs of the Optunas to consider (- = the interpreter's own); the newest is compared with")
	flag.StringVar(&cfg.Cache, "optuna-cache", "", "folder keeping Optuna's study results between runs (empty = rerun)")
	flag.Parse()
	if cfg.FromSeed < 0 || cfg.FromSeed >= cfg.Seeds {
		return fmt.Errorf("-from-seed %d must lie in [0, -seeds %d)", cfg.FromSeed, cfg.Seeds)
	}
	cfg.Command = strings.Join(append([]string{"go run ./search/bench/cmd/benchvariants"}, os.Args[1:]...), " ")
	cfg.Optunas = bench.OptunaEnvs(*python, *paths)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.RunVariants(ctx, cfg)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	if err := res.WriteMarkdown(&doc); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if *out == "-" {
		_, err = os.Stdout.Write(doc.Bytes())
	} else {
		err = os.WriteFile(*out, doc.Bytes(), 0o644)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", res.Elapsed.Round(1e9))
	return nil
}
