package main

import (
	"fmt"

	"sweep/objective"
	"sweep/search"
)

// checkCIFAR10Space rejects a search space that reaches values the trainer
// refuses (a negative learning rate, batch 0): it applies each param's
// corner values (low, high, every choice) to the options alone and
// validates the result, so the problem is reported at the param's line
// before anything is stored instead of failing every trial that draws it.
func checkCIFAR10Space(file string, params []search.Param, o objective.CIFAR10Options) error {
	var errs search.SpecErrors
	var walk func(ps []search.Param)
	walk = func(ps []search.Param) {
		for _, p := range ps {
			corners := p.Choices
			switch p.Type {
			case search.Float:
				corners = []any{p.Low, p.High}
			case search.Int:
				corners = []any{int(p.Low), int(p.High)}
			}
			for _, v := range corners {
				// A choice comes with the params it enables, at their low
				// end: scheduler=step needs its step_size.
				probe := objective.Params{p.Name: v}
				for _, c := range p.Conditional[search.ChoiceString(v)] {
					probe[c.Name] = lowEnd(c)
				}
				q, err := o.WithParams(probe)
				if err == nil {
					_, err = q.Config()
				}
				if err != nil {
					_, msg := objective.FieldOf(err)
					errs = append(errs, &search.SpecError{File: file, Line: p.Line, Field: "params." + p.Name,
						Err: fmt.Errorf("%v is refused by the trainer: %s", v, msg)})
					break
				}
			}
			for _, c := range p.Choices {
				walk(p.Conditional[search.ChoiceString(c)])
			}
		}
	}
	walk(params)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// lowEnd is a param's first value: low, or the first choice.
func lowEnd(p search.Param) any {
	switch p.Type {
	case search.Float:
		return p.Low
	case search.Int:
		return int(p.Low)
	}
	return p.Choices[0]
}
