package postgres_test

import (
	"context"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/internal/pgtest"
	"sweep/sweep"
)

// TestDocs_Queries runs every ```sql block of docs/sql.md on a small study,
// so the documented queries keep working as the schema changes.
func TestDocs_Queries(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/sql.md")
	if err != nil {
		t.Fatalf("read docs/sql.md (if it moved, point this test at its new place): %v", err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d sql blocks in docs/sql.md", len(blocks))
	}
	s := open(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "demo-synthetic", Direction: "maximize", Metric: "val_acc",
		Spec: []byte("study: demo-synthetic\n"), Trials: 30}, false)
	must(t, err)
	lr := goptuna.LogUniformDistribution{Low: 1e-4, High: 1}
	bs := goptuna.CategoricalDistribution{Choices: []string{"64", "128", "256"}}
	sched := goptuna.CategoricalDistribution{Choices: []string{"cosine", "step", "onecycle"}}
	for i := 0; i < 10; i++ {
		cl, err := s.ClaimTrial(ctx, st.ID, "w1", "host")
		must(t, err)
		must(t, s.SetTrialParam(cl.TrialID, "lr", 0.001*float64(i+1), lr))
		must(t, s.SetTrialParam(cl.TrialID, "batch_size", float64(i%3), bs))
		must(t, s.SetTrialParam(cl.TrialID, "scheduler", float64(i%3), sched))
		for step := 1; step <= 5; step++ {
			must(t, s.SetTrialIntermediateValue(cl.TrialID, step, float64(step*i)/50))
			must(t, s.RecordMetrics(ctx, cl.TrialID, step, map[string]float64{"train_loss": 1 / float64(step), "lr": 0.1}))
		}
		state, value := goptuna.TrialStateComplete, float64(5*i)/50
		switch i % 4 {
		case 1:
			state = goptuna.TrialStatePruned
		case 2:
			state, value = goptuna.TrialStateFail, math.NaN()
		}
		must(t, s.FinishTrial(ctx, cl.TrialID, state, value, ""))
	}
	for i, b := range blocks {
		for _, q := range strings.Split(string(b[1]), ";") {
			if strings.TrimSpace(q) == "" {
				continue
			}
			rows, err := s.DB().QueryContext(ctx, q)
			if err != nil {
				t.Errorf("block %d: %v\n%s", i+1, err, q)
				continue
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n == 0 && !strings.Contains(q, "RUNNING") && !strings.Contains(q, "'FAIL'") {
				t.Errorf("block %d returned no rows on the sample study:\n%s", i+1, q)
			}
		}
	}
}
