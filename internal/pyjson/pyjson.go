// Package pyjson reads the JSON that Python's json module writes. By default
// json.dumps writes the non-standard tokens NaN, Infinity and -Infinity,
// which encoding/json refuses; training programs print them (a diverged
// loss) and Optuna's journal stores them (a NaN intermediate value).
//
// [Quote] rewrites those tokens, outside strings, as strings carrying a
// NUL mark (no JSON text from Python holds a raw NUL, so none is mistaken
// for one); [Special] and [Float] turn the marked strings back into
// numbers after decoding.
package pyjson

import (
	"bytes"
	"encoding/json"
	"math"
)

// mark prefixes the strings Quote makes of the special tokens.
const mark = "\x00"

// tokens are the special tokens, longest first so -Infinity is not read
// as a minus and Infinity.
var tokens = []string{"-Infinity", "Infinity", "NaN"}

var values = map[string]float64{"NaN": math.NaN(), "Infinity": math.Inf(1), "-Infinity": math.Inf(-1)}

// Quote returns b with every NaN, Infinity and -Infinity token outside a
// string replaced by a marked string. b is returned as is when it holds no
// such token.
func Quote(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, tok := range tokens {
			if bytes.HasPrefix(b[i:], []byte(tok)) {
				out = append(out, `"\u0000`+tok+`"`...)
				i += len(tok) - 1
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out
}

// Special reports the number a decoded string stands for when Quote made
// it from a special token.
func Special(s string) (float64, bool) {
	if len(s) == 0 || s[:1] != mark {
		return 0, false
	}
	f, ok := values[s[1:]]
	return f, ok
}

// Float is a float64 that also decodes Quote's marked strings; null
// leaves it unchanged.
type Float float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if x, ok := Special(s); ok {
			*f = Float(x)
			return nil
		}
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*f = Float(x)
	return nil
}
