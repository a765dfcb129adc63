package optim

import (
	"errors"
	"math"
	"testing"
)

func TestSchedule_LR(t *testing.T) {
	type point struct {
		step int
		want float64
	}
	tests := []struct {
		name string
		s    Schedule
		pts  []point
	}{
		{"Constant", Schedule{BaseLR: 0.1}, []point{{0, 0.1}, {1000, 0.1}}},
		{"ConstantWarmup", Schedule{Kind: Constant, BaseLR: 1, WarmupSteps: 4},
			[]point{{0, 0.25}, {1, 0.5}, {3, 1}, {4, 1}, {50, 1}}},
		{"Step", Schedule{Kind: Step, BaseLR: 0.1, StepSize: 30},
			[]point{{0, 0.1}, {29, 0.1}, {30, 0.01}, {59, 0.01}, {60, 0.001}}},
		{"StepGamma", Schedule{Kind: Step, BaseLR: 1, StepSize: 2, Gamma: 0.5},
			[]point{{1, 1}, {2, 0.5}, {4, 0.25}}},
		{"MultiStep", Schedule{Kind: MultiStep, BaseLR: 0.1, Gamma: 0.5, Milestones: []int{3, 6}},
			[]point{{0, 0.1}, {2, 0.1}, {3, 0.05}, {5, 0.05}, {6, 0.025}, {100, 0.025}}},
		{"Cosine", Schedule{Kind: Cosine, BaseLR: 1, TotalSteps: 11},
			[]point{{0, 1}, {5, 0.5}, {10, 0}, {20, 0}}},
		{"CosineMinLR", Schedule{Kind: Cosine, BaseLR: 1, MinLR: 0.2, TotalSteps: 3},
			[]point{{0, 1}, {1, 0.6}, {2, 0.2}}},
		{"CosineWarmup", Schedule{Kind: Cosine, BaseLR: 1, TotalSteps: 13, WarmupSteps: 2},
			[]point{{0, 0.5}, {1, 1}, {2, 1}, {7, 0.5}, {12, 0}}},
		{"Linear", Schedule{Kind: Linear, BaseLR: 1, TotalSteps: 5},
			[]point{{0, 1}, {1, 0.75}, {2, 0.5}, {3, 0.25}, {4, 0}, {9, 0}}},
		// airbench94's triangle(100, start=0.2, end=0.07, peak=0.23), by hand:
		// step 10 = 0.2 + 0.8·10/23; step 99 = 1 − 0.93·76/77.
		{"Triangle", Schedule{Kind: Triangle, BaseLR: 2, TotalSteps: 100},
			[]point{{0, 0.4}, {10, 2 * (0.2 + 0.8*10.0/23)}, {23, 2}, {99, 2 * (1 - 0.93*76.0/77)}, {150, 0.14}}},
		{"TriangleCustom", Schedule{Kind: Triangle, BaseLR: 1, TotalSteps: 10, PctStart: 0.5, StartFactor: 0.5, EndFactor: 0.1},
			[]point{{0, 0.5}, {5, 1}, {10, 0.1}}},
		// Values of PyTorch's OneCycleLR(max_lr=1, total_steps=100): phase one
		// ends at step 0.3·100-1 = 29.
		{"OneCycle", Schedule{Kind: OneCycle, BaseLR: 1, TotalSteps: 100},
			[]point{{0, 0.04}, {29, 1}, {64, (1 + 4e-6) / 2}, {99, 4e-6}}},
		{"OneCycleCustom", Schedule{Kind: OneCycle, BaseLR: 2, TotalSteps: 10, PctStart: 0.5, DivFactor: 10, FinalDivFactor: 2},
			[]point{{0, 0.2}, {2, 0.2 + (2-0.2)/2}, {4, 2}, {9, 0.1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			for _, p := range tt.pts {
				if got := tt.s.LR(p.step); math.Abs(got-p.want) > 1e-9 {
					t.Errorf("LR(%d) = %.10g, want %.10g", p.step, got, p.want)
				}
			}
		})
	}
}

func TestSchedule_LRMonotoneCosine(t *testing.T) {
	s := Schedule{Kind: Cosine, BaseLR: 0.4, TotalSteps: 500, WarmupSteps: 50}
	prev := 0.0
	for i := 0; i < 50; i++ {
		if lr := s.LR(i); lr <= prev {
			t.Fatalf("warmup not increasing at %d: %g after %g", i, lr, prev)
		} else {
			prev = lr
		}
	}
	for i := 50; i < 500; i++ {
		if lr := s.LR(i); lr > prev {
			t.Fatalf("cosine increased at %d: %g after %g", i, lr, prev)
		} else {
			prev = lr
		}
	}
}

func TestSchedule_Validate(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
	}{
		{"ZeroLR", Schedule{}},
		{"NegativeLR", Schedule{BaseLR: -1}},
		{"UnknownKind", Schedule{Kind: "exp", BaseLR: 1}},
		{"StepNoSize", Schedule{Kind: Step, BaseLR: 1}},
		{"MultiStepNoMilestones", Schedule{Kind: MultiStep, BaseLR: 1}},
		{"MultiStepUnsorted", Schedule{Kind: MultiStep, BaseLR: 1, Milestones: []int{5, 2}}},
		{"CosineNoTotal", Schedule{Kind: Cosine, BaseLR: 1}},
		{"CosineWarmupTooLong", Schedule{Kind: Cosine, BaseLR: 1, TotalSteps: 5, WarmupSteps: 5}},
		{"MinAboveBase", Schedule{Kind: Cosine, BaseLR: 1, MinLR: 2, TotalSteps: 5}},
		{"OneCyclePct", Schedule{Kind: OneCycle, BaseLR: 1, TotalSteps: 5, PctStart: 1}},
		{"GammaAboveOne", Schedule{Kind: Step, BaseLR: 1, StepSize: 1, Gamma: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); !errors.Is(err, ErrSchedule) {
				t.Fatalf("Validate = %v, want ErrSchedule", err)
			}
		})
	}
}

func TestMultipliers_Of(t *testing.T) {
	m := ClassicLayerwise()
	for g, want := range map[string]float64{GroupStem: 0.1, GroupStage1: 0.5, GroupStage3: 1, GroupStage4: 2, "other": 1} {
		if got := m.Of(g); got != want {
			t.Errorf("Of(%q) = %g, want %g", g, got, want)
		}
	}
	if got := Multipliers(nil).Of(GroupStem); got != 1 {
		t.Errorf("nil Multipliers: Of = %g, want 1", got)
	}
}
