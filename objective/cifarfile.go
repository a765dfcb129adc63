package objective

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"sweep/trainer"
)

// TrainFile is a `sweep train` configuration: one cifar10 run, no study.
// Either the objective mapping of a study spec plus fixed params:
//
//	study: baseline          # optional; names checkpoints <dir>/<study>/<trial>
//	trial: sgd-0.1           # optional; default "train"
//	objective:
//	  type: cifar10
//	  epochs: 10
//	  lr: 0.1
//	params:                  # optional fixed values, e.g. a report's best trial
//	  momentum: 0.9
//
// params override objective options of the same name, as in a study. Or
// the flat form `sweep report` writes for the best trial, every option key
// at the top level (study and trial still name the checkpoints):
//
//	epochs: 10
//	lr: 0.088
//	optimizer: sgd
type TrainFile struct {
	Study, Trial string
	Options      CIFAR10Options // options with params applied
}

// TrainFileError locates a problem in a train file, as "file:line: field:
// message".
type TrainFileError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *TrainFileError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *TrainFileError) Unwrap() error { return e.Err }

// ParseTrainFile parses and validates a train file; filename labels errors.
func ParseTrainFile(filename string, src []byte) (*TrainFile, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			err = errors.New("file is empty")
		}
		return nil, &TrainFileError{File: filename, Line: 1, Field: "(file)", Err: err}
	}
	root := doc.Content[0]
	locate := func(n *yaml.Node, field string, err error) error {
		return &TrainFileError{File: filename, Line: n.Line, Field: field, Err: err}
	}
	if root.Kind != yaml.MappingNode {
		return nil, locate(root, "(file)", errors.New("must be a mapping with an objective key"))
	}
	tf := &TrainFile{Study: "train", Trial: "train", Options: DefaultCIFAR10Options()}
	var objNode, paramNode *yaml.Node
	flat := &yaml.Node{Kind: yaml.MappingNode, Line: root.Line}
	structured := hasKey(root, "objective")
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case k.Value == "study":
			tf.Study = v.Value
		case k.Value == "trial":
			tf.Trial = v.Value
		case k.Value == "objective" && structured:
			objNode = v
		case k.Value == "params" && structured:
			paramNode = v
		case !structured:
			flat.Content = append(flat.Content, k, v)
		default:
			return nil, locate(k, k.Value, errors.New("unknown key (want study, trial, objective, params)"))
		}
	}
	if !structured {
		// The flat form `sweep report` writes: option keys at the top level.
		objNode = flat
	}
	lines := map[string]*yaml.Node{}
	wrap := func(prefix string) func(*yaml.Node, string, error) error {
		return func(n *yaml.Node, key string, err error) error {
			lines[key] = n
			if err == nil {
				return nil
			}
			return locate(n, prefix+key, err)
		}
	}
	prefix := "objective."
	if !structured {
		prefix = ""
	}
	if err := decodeLocated(&tf.Options, objNode, "objective", wrap(prefix)); err != nil {
		return nil, err
	}
	if paramNode != nil {
		if err := decodeLocated(&tf.Options, paramNode, "params", wrap("params.")); err != nil {
			return nil, err
		}
	}
	if _, err := tf.Options.Config(); err != nil {
		var fe *trainer.FieldError
		if errors.As(err, &fe) {
			n, ok := lines[fe.Field]
			if !ok {
				n = objNode
			}
			return nil, locate(n, fe.Field, errors.New(fe.Msg))
		}
		return nil, locate(objNode, "objective", err)
	}
	return tf, nil
}

// decodeLocated fills o from the mapping m. Keys must be CIFAR10Options yaml
// tags; "type" must say cifar10 when present. located is called for every
// key with its value node and the key's problem (nil when fine), and the
// first non-nil error it returns stops decoding.
func decodeLocated(o *CIFAR10Options, m *yaml.Node, what string, located func(*yaml.Node, string, error) error) error {
	if m.Kind != yaml.MappingNode {
		return located(m, what, errors.New("must be a mapping"))
	}
	rv := reflect.ValueOf(o).Elem()
	index := optionIndex(rv.Type())
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		var err error
		path, ok := index[k.Value]
		var fv reflect.Value
		if ok {
			fv = rv.FieldByIndex(path)
		}
		switch {
		case k.Value == "type" && what == "objective":
			if v.Value != "cifar10" {
				err = fmt.Errorf("sweep train runs objective cifar10, not %q", v.Value)
			}
		case !ok:
			err = fmt.Errorf("unknown option (want one of %s)", strings.Join(optionKeys(), ", "))
		case v.Kind == yaml.MappingNode && what == "params":
			err = errors.New("needs a fixed value here, not a search range (use sweep start for a study)")
		case !wholeNumbers(v, fv.Kind()):
			err = fmt.Errorf("must be a whole number (got %s)", v.Value)
		default:
			fresh := reflect.New(fv.Type())
			if err = v.Decode(fresh.Interface()); err == nil {
				fv.Set(fresh.Elem())
			} else {
				err = errors.New(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
			}
		}
		if e := located(k, k.Value, err); e != nil {
			return e
		}
	}
	return nil
}

// wholeNumbers reports whether v may go into an int (or []int) field:
// YAML decoding would silently truncate 2.5 to 2, so floats must be whole.
func wholeNumbers(v *yaml.Node, kind reflect.Kind) bool {
	if kind != reflect.Int && kind != reflect.Uint64 && kind != reflect.Slice {
		return true
	}
	nodes := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode && kind == reflect.Slice {
		nodes = v.Content
	}
	for _, n := range nodes {
		if n.ShortTag() != "!!float" {
			continue
		}
		var x float64
		if err := n.Decode(&x); err != nil || x != math.Trunc(x) {
			return false
		}
	}
	return true
}

// decodeOptions applies the mapping m to o; wrap turns a key's problem into
// the returned error.
func decodeOptions(o *CIFAR10Options, m *yaml.Node, wrap func(key string, err error) error) error {
	return decodeLocated(o, m, "params", func(_ *yaml.Node, key string, err error) error {
		if err == nil {
			return nil
		}
		return wrap(key, err)
	})
}

// optionKeys lists the cifar10 option keys in sorted order.
func optionKeys() []string {
	index := optionIndex(reflect.TypeOf(CIFAR10Options{}))
	keys := make([]string, 0, len(index))
	for k := range index {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CheckCIFAR10Param reports whether a study may search a param of this
// name: every param of a cifar10 study must be an option key, so that a
// misspelt name fails when the study starts rather than in every trial.
func CheckCIFAR10Param(name string) error {
	if _, ok := optionIndex(reflect.TypeOf(CIFAR10Options{}))[name]; !ok || name == "data_dir" || name == "checkpoint_dir" {
		return fmt.Errorf("objective cifar10 has no option %q to search (want one of %s)", name, strings.Join(optionKeys(), ", "))
	}
	return nil
}

// optionIndex maps each yaml tag of the options struct to its field index
// path, the embedded trainer.Config's keys included.
func optionIndex(t reflect.Type) map[string][]int {
	index := map[string][]int{}
	var walk func(t reflect.Type, path []int)
	walk = func(t reflect.Type, path []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			p := append(slices.Clone(path), i)
			switch {
			case f.Anonymous && opts == "inline":
				walk(f.Type, p)
			case tag != "" && tag != "-":
				if old, dup := index[tag]; !dup || len(p) < len(old) {
					index[tag] = p
				}
			}
		}
	}
	walk(t, nil)
	return index
}
