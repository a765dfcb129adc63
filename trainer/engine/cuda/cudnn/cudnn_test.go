package cudnn

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// TestAlgoPerf_Layout pins the struct to cuDNN's C layout: algo@0,
// status@4, time@8, memory@16, determinism@24, mathType@28, 48 bytes.
func TestAlgoPerf_Layout(t *testing.T) {
	var a AlgoPerf
	got := []uintptr{unsafe.Offsetof(a.Algo), unsafe.Offsetof(a.Status), unsafe.Offsetof(a.Time),
		unsafe.Offsetof(a.Memory), unsafe.Offsetof(a.Determinism), unsafe.Offsetof(a.MathType), unsafe.Sizeof(a)}
	want := []uintptr{0, 4, 8, 16, 24, 28, 48}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("layout %v, want %v", got, want)
		}
	}
}

func TestPick(t *testing.T) {
	perf := []AlgoPerf{
		{Algo: 6, Status: 3000},               // not supported
		{Algo: 7, Status: 0, Memory: 1 << 30}, // too big
		{Algo: 1, Status: 0, Memory: 1 << 20},
		{Algo: 0, Status: 0},
	}
	if a, err := pick(perf, 4, 64<<20); err != nil || a != 1 {
		t.Fatalf("pick = %d, %v; want 1", a, err)
	}
	if _, err := pick(perf, 2, 64<<20); err == nil {
		t.Fatal("pick found an algorithm among unusable ones")
	}
}

// TestFunctions_Register registers every typed (float/double-taking)
// binding with purego, as Bind does when a real cuDNN has the symbol: a
// signature purego cannot call panics here instead of on a GPU machine.
// The fake address is never called.
func TestFunctions_Register(t *testing.T) {
	var fn functions
	v := reflect.ValueOf(&fn).Elem()
	typed := 0
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Func {
			continue
		}
		typed++
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: purego cannot bind this signature: %v", v.Type().Field(i).Name, r)
				}
			}()
			purego.RegisterFunc(f.Addr().Interface(), 0x1000)
		}()
	}
	if typed < 4 {
		t.Fatalf("found %d typed bindings, want the batch-norm and activation ones", typed)
	}
}
