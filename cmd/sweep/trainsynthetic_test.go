package main

import (
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestRunTrain_SyntheticBest: the file sweep report --format yaml writes
// for a synthetic study runs with sweep train and reproduces the best
// trial's value exactly.
func TestRunTrain_SyntheticBest(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	e, _, _, _ := newTestEnv(false)
	best, _ := runCLI(t, e, dsn, 0, "report", "cli-small", "--format", "yaml")
	if !strings.Contains(best, "# Run it alone with: sweep train best.yaml\n") || !strings.Contains(best, "space:") {
		t.Fatalf("best config:\n%s", best)
	}
	file := writeFile(t, t.TempDir(), "best.yaml", best)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var want float64
	if err := db.QueryRow(`SELECT value FROM study_leaderboard WHERE study = 'cli-small' AND rank = 1 ORDER BY number LIMIT 1`).Scan(&want); err != nil {
		t.Fatal(err)
	}

	e, out, errOut, _ := newTestEnv(false)
	if code := run(t.Context(), e, []string{"train", file, "--json"}); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errOut)
	}
	var res struct {
		Value float64           `json:"value"`
		Attrs map[string]string `json:"attrs"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Value != want || res.Attrs["synthetic_quality"] == "" {
		t.Errorf("train reproduced %v (%v), attrs %v; the best trial has %v", res.Value, err, res.Attrs, want)
	}
	if !strings.Contains(errOut.String(), "epoch 4 val_acc="+strconv.FormatFloat(want, 'f', 4, 64)+"\n") {
		t.Errorf("per-epoch lines on stderr:\n%s", errOut)
	}

	e, out, _, _ = newTestEnv(false)
	if code := run(t.Context(), e, []string{"train", file}); code != 0 || !strings.HasPrefix(out.String(), "val_acc\t"+strconv.FormatFloat(want, 'f', 4, 64)+"\n") {
		t.Errorf("train: exit %d, stdout:\n%s", code, out)
	}
	// --set changes a param, checked against the space.
	e, _, errOut, _ = newTestEnv(false)
	if code := run(t.Context(), e, []string{"train", file, "--set", "lr=2"}); code != 1 || !strings.Contains(errOut.String(), "param lr: 2 is outside [0.0001, 1]") {
		t.Errorf("--set lr=2: exit %d, stderr %q", code, errOut)
	}
	e, out, _, _ = newTestEnv(false)
	if code := run(t.Context(), e, []string{"train", file, "--set", "epochs=2"}); code != 0 || strings.HasPrefix(out.String(), "val_acc\t"+strconv.FormatFloat(want, 'f', 4, 64)+"\n") {
		t.Errorf("--set epochs=2: exit %d, stdout %q (want a shorter run's value)", code, out)
	}
}
