package pyjson

import (
	"encoding/json"
	"math"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{`{"a": NaN, "b": -Infinity, "c": Infinity}`, `{"a": "\u0000NaN", "b": "\u0000-Infinity", "c": "\u0000Infinity"}`},
		{`{"NaN": "Infinity \" NaN", "x": [NaN]}`, `{"NaN": "Infinity \" NaN", "x": ["\u0000NaN"]}`},
		{`{"s": "a\\", "v": NaN}`, `{"s": "a\\", "v": "\u0000NaN"}`},
	} {
		if got := string(Quote([]byte(tc.in))); got != tc.want {
			t.Errorf("Quote(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestFloat(t *testing.T) {
	var v struct {
		A, B, C, D, E Float
		S             string
	}
	v.E = 7
	if err := json.Unmarshal(Quote([]byte(`{"A": NaN, "B": -Infinity, "C": Infinity, "D": 0.25, "E": null, "S": "NaN"}`)), &v); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(v.A)) || !math.IsInf(float64(v.B), -1) || !math.IsInf(float64(v.C), 1) || v.D != 0.25 || v.E != 7 || v.S != "NaN" {
		t.Errorf("decoded %+v", v)
	}
	var f Float
	if err := json.Unmarshal([]byte(`"NaN"`), &f); err == nil {
		t.Error(`an unmarked "NaN" string decoded as a number`)
	}
	if _, ok := Special("NaN"); ok {
		t.Error("Special accepted an unmarked string")
	}
}
