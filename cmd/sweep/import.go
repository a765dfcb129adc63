package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/optuna"
	"sweep/search"
)

// importOptions are the flags of `sweep import`.
type importOptions struct {
	env   *env
	From  string // Optuna storage: postgresql:// URL or a journal file
	Study string // the Optuna study's name
	Spec  string // optional spec file, checked against the imported distributions
	DB    string
	PGDir string
}

func newImportCmd(e *env, runF func(context.Context, *importOptions) error) *cobra.Command {
	opts := &importOptions{env: e}
	cmd := &cobra.Command{
		Use:   "import --from-optuna STORAGE --study NAME [--spec FILE]",
		Short: "Copy a study from Optuna (PostgreSQL RDB storage or journal file) into sweep",
		Long: `Copy one Optuna study into sweep's database: every trial with its number, state,
value, datetimes, params and distributions, intermediate values and user attrs,
and the study's user attrs. STORAGE is Optuna's PostgreSQL URL
(postgresql://..., postgresql+psycopg2://...) or a JournalFileStorage log file.
Optuna trials still RUNNING or WAITING become FAIL, saying so.

With --spec, the study is stored under the spec's name with that spec, after
checking that every imported param has the spec's distribution; sweep start
SPEC then continues it (raise trials first). Without it, a spec is written
from the imported distributions (unconditional params, a placeholder
synthetic objective, trials = the trials imported), stored with the study and
printed: edit its objective and trials, then sweep start FILE --force-update.`,
		Example: `  sweep import --from-optuna postgresql://me@db/optuna --study resnet --spec resnet.yaml
  sweep import --from-optuna study.log --study resnet > resnet.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.From == "" || opts.Study == "" {
				return usageErrorf("--from-optuna and --study are required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runImport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from-optuna", "", "Optuna storage: a postgresql:// URL or a journal log file")
	f.StringVar(&opts.Study, "study", "", "name of the Optuna study to copy")
	f.StringVar(&opts.Spec, "spec", "", "sweep spec `FILE` for the study (checked against the imported distributions)")
	addDBFlags(f, &opts.DB, &opts.PGDir)
	return cmd
}

// rdbURL matches the storage URLs read as Optuna RDB storages.
var rdbURL = regexp.MustCompile(`^postgres(ql)?(\+[a-z0-9_]+)?://`)

// runImport reads the Optuna study, builds or checks its spec, and copies
// it in one transaction.
func runImport(ctx context.Context, opts *importOptions) error {
	e := opts.env
	st, err := readOptuna(ctx, opts.From, opts.Study)
	if err != nil {
		return err
	}
	var spec *search.Spec
	var text []byte
	if opts.Spec != "" {
		if text, err = os.ReadFile(opts.Spec); err != nil {
			return fmt.Errorf("read spec: %w", err)
		}
		if spec, err = search.ParseSpec(opts.Spec, text); err != nil {
			return specProblems(e.Err, opts.Spec, err)
		}
		if err := optuna.CheckSpace(spec, st); err != nil {
			return err
		}
	} else {
		space, err := optuna.Space(st)
		if err != nil {
			return err
		}
		text = optuna.SpecYAML(st, space)
		if spec, err = search.ParseSpec("spec written for "+st.Name, text); err != nil {
			return fmt.Errorf("write spec from the Optuna distributions: %w", err)
		}
	}
	store, err := openStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := optuna.Import(ctx, store.DB().DB, st, spec.Study, spec, text); err != nil {
		if errors.Is(err, optuna.ErrStudyExists) {
			return fmt.Errorf("sweep already has a study named %q (give --spec with another study: name)", spec.Study)
		}
		return err
	}
	counts := map[string]int{}
	for _, t := range st.Trials {
		counts[t.State]++
	}
	fmt.Fprintf(e.Err, "imported %d trials of Optuna study %s as %s (%d complete, %d pruned, %d failed)\n",
		len(st.Trials), safetext.Terminal(st.Name), safetext.Terminal(spec.Study), counts["COMPLETE"], counts["PRUNED"],
		len(st.Trials)-counts["COMPLETE"]-counts["PRUNED"])
	if opts.Spec == "" {
		_, err = e.Out.Write(text)
	}
	return err
}

// readOptuna reads a study from an Optuna RDB URL or journal file.
func readOptuna(ctx context.Context, from, study string) (*optuna.Study, error) {
	if rdbURL.MatchString(from) {
		return optuna.ReadRDB(ctx, from, study)
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("open optuna storage (a postgresql:// URL or a journal file): %w", err)
	}
	defer f.Close()
	return optuna.ReadJournal(f, study)
}
