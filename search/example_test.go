package search_test

import (
	"fmt"

	"sweep/search"
)

func ExampleParseSpec() {
	spec, err := search.ParseSpec("study.yaml", []byte(`study: demo
direction: maximize
metric: val_acc
trials: 20
objective: {type: synthetic, epochs: 5}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  optimizer:
    type: categorical
    choices: [sgd, adamw]
    conditional:
      sgd:
        momentum: {type: float, low: 0.8, high: 0.99}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Study, spec.Trials, spec.Sampler.Type, spec.Params[1].Conditional["sgd"][0].Name)

	_, err = search.ParseSpec("study.yaml", []byte(`study: demo
direction: maximize
trials: 20
objective: {type: synthetic}
params:
  lr: {type: float, low: 1, high: 0.1}
  bs: {type: categorical, choices: []}
`))
	fmt.Println(err)
	// Output:
	// demo 20 tpe momentum
	// study.yaml:6: params.lr.low: must be < high (got 1 ≥ 0.1)
	// study.yaml:7: params.bs.choices: must not be empty
}
