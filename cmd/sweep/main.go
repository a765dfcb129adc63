// Command sweep runs hyperparameter studies that train image classifiers,
// stores them in PostgreSQL and reports on them. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, newEnv(), os.Args[1:]))
}
