package dynlib

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Func is a resolved C function whose arguments are all integers or
// pointers (no float or double arguments: those need purego.RegisterFunc).
type Func uintptr

// Call calls f with args and returns its integer result. Pointers must be
// converted in the argument list itself (uintptr(unsafe.Pointer(&x))), which
// keeps their targets alive and in place for the call.
//
//go:uintptrescapes
func (f Func) Call(args ...uintptr) uintptr {
	r, _, _ := purego.SyscallN(uintptr(f), args...)
	return r
}

// Bind fills every Func field of the struct *dst from l, using the field's
// `sym` tag as the symbol name (",optional" allows it to be missing, leaving
// zero). Fields of other types are set with purego.RegisterFunc, which
// handles float and double arguments. The error lists every missing symbol.
func Bind(l *Lib, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	var missing []string
	for i := 0; i < t.NumField(); i++ {
		tag, ok := t.Field(i).Tag.Lookup("sym")
		if !ok {
			continue
		}
		name, optional := strings.CutSuffix(tag, ",optional")
		p, err := purego.Dlsym(l.Handle, name)
		if err != nil || p == 0 {
			if !optional {
				missing = append(missing, name)
			}
			continue
		}
		fv := v.Field(i)
		if fv.Type() == reflect.TypeOf(Func(0)) {
			fv.SetUint(uint64(p))
			continue
		}
		purego.RegisterFunc(fv.Addr().Interface(), p)
	}
	if len(missing) > 0 {
		return fmt.Errorf("bind %s (%s): missing symbols %s", l.Spec.Name, l.Path, strings.Join(missing, ", "))
	}
	return nil
}

// GoString copies a NUL-terminated C string.
func GoString(p uintptr) string {
	if p == 0 {
		return ""
	}
	var b []byte
	for i := uintptr(0); ; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(nil), p+i)) //nolint:govet // C memory, not Go heap
		if c == 0 {
			return string(b)
		}
		b = append(b, c)
	}
}

// CString returns a NUL-terminated copy of s, to pass as &b[0].
func CString(s string) []byte { return append([]byte(s), 0) }
