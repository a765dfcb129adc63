package command_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"sweep/objective/command"
)

// render shows a parse result compactly: "step 3: train_loss=0.9 val_acc=0.71".
func render(rec command.Record, ok bool) string {
	if !ok {
		return "log"
	}
	keys := make([]string, 0, len(rec.Values))
	for k := range rec.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%g", k, rec.Values[k])
	}
	step := "final"
	if rec.HasStep {
		step = fmt.Sprintf("step %d", rec.Step)
	}
	return step + ": " + strings.Join(parts, " ")
}

func TestNewParser(t *testing.T) {
	for _, tc := range []struct {
		format, regex, line, want string
	}{
		{"json", "", `{"step": 3, "val_acc": 0.71, "train_loss": 0.9}`, "step 3: train_loss=0.9 val_acc=0.71"},
		{"json", "", `  {"epoch": 2, "val_acc": 0.5, "note": "x", "nested": {"a": 1}, "ok": true}`, "step 2: val_acc=0.5"},
		{"json", "", `{"val_acc": 0.8, "test_acc": 0.79}`, "final: test_acc=0.79 val_acc=0.8"},
		{"json", "", `{"step": 1, "val_acc": NaN, "x": Infinity, "y": -Infinity, "s": "NaN"}`, "step 1: val_acc=NaN x=+Inf y=-Inf"},
		{"json", "", `{"step": 1.5, "val_acc": 0.1}`, "log"},
		{"json", "", `{"step": 1, "val_acc":`, "log"},
		{"json", "", `{"event": "start", "lr": 0.1}`, "log"},
		{"json", "", `step=1 val_acc=0.5`, "log"},
		{"keyvalue", "", `step=3 val_acc=0.71 train_loss=0.9`, "step 3: train_loss=0.9 val_acc=0.71"},
		{"keyvalue", "", `epoch 3: val_acc = 0.71, lr=1e-3 phase=train`, "final: lr=0.001 val_acc=0.71"},
		{"keyvalue", "", `Epoch [3/10] epoch=3 val_acc=nan`, "step 3: val_acc=NaN"},
		{"keyvalue", "", `Namespace(lr=0.1, momentum=0.9)`, "log"},
		{"keyvalue", "", `xval_acc=0.5 val_acc=0.5abc`, "log"},
		{"keyvalue", "", `garbage \x00\xff`, "log"},
		{"auto", "", `{"step": 4, "val_acc": 0.6}`, "step 4: val_acc=0.6"},
		{"auto", "", `step=4 val_acc=0.6`, "step 4: val_acc=0.6"},
		{"auto", "", `{not json} val_acc=0.6`, "log"},
		{"regex", `(?P<step>\d+).*val_acc=(?P<value>[0-9.]+)`, `epoch 7 ... val_acc=0.83`, "step 7: val_acc=0.83"},
		{"regex", `acc (?P<val_acc>[0-9.]+) loss (?P<loss>[0-9.]+)`, `final acc 0.9 loss 0.3`, "final: loss=0.3 val_acc=0.9"},
		{"regex", `(?P<step>\d+).*val_acc=(?P<value>[0-9.]+)`, `nothing here`, "log"},
		{"regex", `it (?P<step>\d+)(?: acc (?P<value>[0-9.]+))?`, `it 5`, "step 5: "},
		{"regex", `(?P<step>\d+) (?P<value>\S+)`, `5 high`, "log"},
	} {
		p, err := command.NewParser(tc.format, tc.regex, "val_acc")
		if err != nil {
			t.Fatalf("%s %q: %v", tc.format, tc.regex, err)
		}
		if got := render(p(tc.line)); got != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.format, tc.line, got, tc.want)
		}
	}
}

func TestNewParser_Errors(t *testing.T) {
	for _, tc := range []struct{ format, regex, want string }{
		{"xml", "", `unknown report format "xml" (want auto, json, keyvalue, regex)`},
		{"regex", "", "report: regex needs a regex with a named group value"},
		{"regex", "val_acc=([0-9.]+)", "regex must have a named group (?P<value>...) for the metric"},
		{"regex", "(?P<value>[", "compile regex: error parsing regexp"},
	} {
		_, err := command.NewParser(tc.format, tc.regex, "val_acc")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %q: error %v, want prefix %q", tc.format, tc.regex, err, tc.want)
		}
	}
	if _, err := command.NewParser("regex", "(?P<val_acc>[0-9.]+)", "val_acc"); err != nil {
		t.Errorf("a group named like the metric: %v", err)
	}
}
