package main

import (
	"context"
	"fmt"
	"image/png"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"sweep/trainer/data"
)

// newDataCmd groups the data set commands: fetch and preview.
func newDataCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Download CIFAR-10 and preview the augmentations",
		Long: `Manage the CIFAR-10 data set (binary version).

The data directory is --data-dir if given, else $SWEEP_DATA, else data/cifar10.
It may hold the batch files directly or inside cifar-10-batches-bin/.`,
	}
	cmd.AddCommand(newDataFetchCmd(e, nil), newDataPreviewCmd(e, nil))
	return cmd
}

// dataFetchOptions are the flags of `sweep data fetch`.
type dataFetchOptions struct {
	env     *env
	DataDir string
	URL     string
	MD5     string
	Force   bool
}

func newDataFetchCmd(e *env, runF func(context.Context, *dataFetchOptions) error) *cobra.Command {
	opts := &dataFetchOptions{env: e}
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Download, check and unpack CIFAR-10",
		Long: `Download the CIFAR-10 binary archive, check its md5 and unpack it into the
data directory (as cifar-10-batches-bin/). An interrupted download is resumed
on the next run; a download with the wrong md5 is deleted.`,
		Example: `  sweep data fetch
  sweep data fetch --data-dir /mnt/datasets/cifar10
  SWEEP_DATA=/mnt/datasets/cifar10 sweep data fetch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.DataDir = data.ResolveDir(opts.DataDir, e.Getenv)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDataFetch(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data-dir", "", "data directory (default: $SWEEP_DATA, else "+data.DefaultDir+")")
	f.StringVar(&opts.URL, "url", data.DefaultURL, "archive `URL` (a mirror)")
	f.StringVar(&opts.MD5, "md5", data.DefaultMD5, "expected md5 of the archive, hex")
	f.BoolVar(&opts.Force, "force", false, "download even if the data is already present")
	return cmd
}

func runDataFetch(ctx context.Context, opts *dataFetchOptions) error {
	e := opts.env
	dir, err := data.Fetch(ctx, data.FetchOptions{
		Dir:      opts.DataDir,
		URL:      opts.URL,
		MD5:      opts.MD5,
		Force:    opts.Force,
		Progress: e.Err,
		IsTTY:    e.IsTTY,
		Now:      e.Now,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Err, "CIFAR-10 ready in %s\n", dir)
	return nil
}

// dataPreviewOptions are the flags of `sweep data preview`.
type dataPreviewOptions struct {
	env      *env
	DataDir  string
	Out      string
	Config   string // augment YAML file; overrides Preset and Strength
	Preset   string
	Strength float64
	Rows     int
	Cols     int
	Scale    int
	Seed     uint64
}

func newDataPreviewCmd(e *env, runF func(context.Context, *dataPreviewOptions) error) *cobra.Command {
	opts := &dataPreviewOptions{env: e}
	cmd := &cobra.Command{
		Use:   "preview --out FILE.png",
		Short: "Render augmented training images in a grid, to check them by eye",
		Long: `Render a PNG grid: one training image per row (distinct classes first,
labelled), the image as stored, then augmented copies, denormalized.

The augmentation is --preset at --strength, or the augment section in
--config (the same YAML a study's augment: key takes).`,
		Example: `  sweep data preview --out grid.png
  sweep data preview --out half.png --strength 0.5 --n 10
  sweep data preview --out cheap.png --preset cheap
  sweep data preview --out mine.png --config augment.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.DataDir = data.ResolveDir(opts.DataDir, e.Getenv)
			if opts.Out == "" {
				return usageErrorf("--out is required")
			}
			if opts.Strength < 0 || opts.Strength > 1 {
				return usageErrorf("--strength %g: want a value in [0, 1]", opts.Strength)
			}
			if opts.Rows < 1 || opts.Cols < 1 || opts.Scale < 1 {
				return usageErrorf("--n, --cols and --scale must be at least 1")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDataPreview(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data-dir", "", "data directory (default: $SWEEP_DATA, else "+data.DefaultDir+")")
	f.StringVarP(&opts.Out, "out", "o", "", "write the PNG to `FILE`")
	f.StringVar(&opts.Config, "config", "", "augment configuration YAML `FILE` (instead of --preset/--strength)")
	f.StringVar(&opts.Preset, "preset", "classic", "augmentation preset: classic or cheap")
	_ = cmd.RegisterFlagCompletionFunc("preset", cobra.FixedCompletions([]string{"classic", "cheap"}, cobra.ShellCompDirectiveNoFileComp))
	f.Float64Var(&opts.Strength, "strength", 1, "augmentation strength in [0, 1]")
	f.IntVar(&opts.Rows, "n", 8, "number of images (rows)")
	f.IntVar(&opts.Cols, "cols", 7, "augmented copies per image")
	f.IntVar(&opts.Scale, "scale", 3, "screen pixels per image pixel")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed for the images and augmentations")
	return cmd
}

func runDataPreview(ctx context.Context, opts *dataPreviewOptions) error {
	cfg, err := previewConfig(opts)
	if err != nil {
		return err
	}
	pipe, err := data.NewPipeline(cfg)
	if err != nil {
		return err
	}
	ds, err := data.LoadTrain(opts.DataDir, data.RecordsPerFile)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	title := fmt.Sprintf("augmentation preview: preset %s, strength %.2f, seed %d", cfg.Preset, cfg.Strength, opts.Seed)
	if opts.Config != "" {
		title = fmt.Sprintf("augmentation preview: %s, seed %d", opts.Config, opts.Seed)
	}
	img := data.Preview(ds, pipe, data.PreviewOptions{
		Rows: opts.Rows, Cols: opts.Cols, Scale: opts.Scale, Seed: opts.Seed, Title: title,
	})
	f, err := os.Create(opts.Out)
	if err != nil {
		return fmt.Errorf("create preview: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write preview %s: %w", opts.Out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write preview %s: %w", opts.Out, err)
	}
	fmt.Fprintf(opts.env.Err, "wrote %s (%d×%d)\n", opts.Out, img.Bounds().Dx(), img.Bounds().Dy())
	return nil
}

// previewConfig reads --config, or builds the preset at --strength.
func previewConfig(opts *dataPreviewOptions) (data.Config, error) {
	if opts.Config == "" {
		return data.FromStrength(opts.Preset, opts.Strength)
	}
	b, err := os.ReadFile(opts.Config)
	if err != nil {
		return data.Config{}, fmt.Errorf("read augment config: %w", err)
	}
	var cfg data.Config
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return data.Config{}, fmt.Errorf("%s: %w", opts.Config, err)
	}
	if err := cfg.Validate(); err != nil {
		return data.Config{}, fmt.Errorf("%s: %w", opts.Config, err)
	}
	return cfg, nil
}
