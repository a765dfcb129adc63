package reports_test

import (
	"fmt"
	"os"

	"sweep/reports"
)

// Build and Render work on plain rows; Load fills them from the database.
// Here a three-trial study is written out by hand.
func ExampleRender() {
	v := func(x float64) *float64 { return &x }
	d := &reports.Data{
		Study: reports.StudyRow{Name: "demo", Direction: "maximize", Metric: "val_acc", Status: "finished",
			Spec: "objective:\n  type: synthetic\n  epochs: 3\n"},
		Summary: reports.SummaryRow{Trials: 3, Complete: 2, Pruned: 1, FullSteps: 3, StepsUsed: 7, StepsFull: 9,
			StepsSaved: 2.0 / 9, WallUsedS: 70, WallFullS: 90, WallSaved: 2.0 / 9, ElapsedS: 80, Workers: 1, Hosts: 1},
		Params: []reports.ParamRow{{Name: "optimizer", Kind: "categorical", Choices: []any{"sgd", "adamw"}}},
		Trials: []reports.TrialRow{
			{Number: 0, State: "COMPLETE", Value: v(0.81), Params: map[string]any{"optimizer": "sgd"}, Steps: 3, DurationS: 30},
			{Number: 1, State: "PRUNED", Value: v(0.42), Params: map[string]any{"optimizer": "adamw"}, Steps: 1, DurationS: 10},
			{Number: 2, State: "COMPLETE", Value: v(0.86), Params: map[string]any{"optimizer": "adamw"}, Steps: 3, DurationS: 30},
		},
		Curves: []reports.CurvePoint{
			{Number: 0, Step: 1, Value: 0.5, ElapsedS: 10}, {Number: 0, Step: 2, Value: 0.7, ElapsedS: 20}, {Number: 0, Step: 3, Value: 0.81, ElapsedS: 30},
			{Number: 1, Step: 1, Value: 0.42, ElapsedS: 10},
			{Number: 2, Step: 1, Value: 0.6, ElapsedS: 10}, {Number: 2, Step: 2, Value: 0.8, ElapsedS: 20}, {Number: 2, Step: 3, Value: 0.86, ElapsedS: 30},
		},
	}
	reach := 0.8
	r, err := reports.Build(d, reports.Options{Reach: &reach})
	if err != nil {
		fmt.Println(err)
		return
	}
	g := r.Groups[0]
	for _, row := range g.Rows {
		fmt.Printf("%s: best %.2f, %d/%d reached %.2f, median epochs %.0f\n",
			row.Key[0], *row.Best, row.Reached, row.Trials, g.Reach, *row.MedianSteps)
	}
	fmt.Print(r.BestConfig)
	_ = reports.Render(os.Stdout, r, "csv")
	// Output:
	// sgd: best 0.81, 1/1 reached 0.80, median epochs 3
	// adamw: best 0.86, 1/2 reached 0.80, median epochs 2
	// # Best trial 2 of study demo: val_acc = 0.86.
	// # Objective synthetic: its options, the trial's parameters and the study's space.
	// # Run it alone with: sweep train best.yaml
	// study: demo
	// trial: 2
	// metric: val_acc
	// objective:
	//   type: synthetic
	//   epochs: 3
	// params:
	//   optimizer: adamw
	// # summary
	// field,value
	// study,demo (maximize val_acc)
	// status,finished
	// trials,"3: 2 complete, 1 pruned, 0 failed, 0 running, 0 waiting"
	// best,val_acc = 0.8600 (trial 2)
	// best params,optimizer=adamw
	// elapsed,1m20s
	// workers seen,1 on 1 host(s)
	// compute used,"7 epochs, 1m10s trial time"
	// without pruning,"9 epochs, 1m30s trial time (every trial run to 3 epochs)"
	// saved by pruning,"22.2% of epochs, 22.2% of trial time"
	//
	// # leaderboard
	// rank,trial,optimizer,val_acc,epochs,time
	// 1,2,adamw,0.8600,3,30.0s
	// 2,0,sgd,0.8100,3,30.0s
	//
	// # group_optimizer
	// optimizer,trials,complete,pruned,best,mean,reached,median epochs,median time
	// sgd,1,1,0,0.8100,0.8100,1/1,3.0,30.0s
	// adamw,2,1,1,0.8600,0.8600,1/2,2.0,20.0s
	//
	// # trials
	// number,state,val_acc,test_acc,epochs,duration_s,worker,reason,optimizer
	// 0,COMPLETE,0.81,,3,30,,,sgd
	// 1,PRUNED,0.42,,1,10,,,adamw
	// 2,COMPLETE,0.86,,3,30,,,adamw
}
