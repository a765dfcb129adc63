package driver

import (
	"bytes"
	"fmt"
	"unsafe"
)

// Device is a CUDA device ordinal resolved by cuDeviceGet.
type Device int32

// Device attributes (CUdevice_attribute) used by sweep.
const (
	attrMultiprocessorCount = 16
	attrComputeMajor        = 75
	attrComputeMinor        = 76

	streamNonBlocking = 1 // CU_STREAM_NON_BLOCKING
)

// DeviceInfo describes one GPU.
type DeviceInfo struct {
	Ordinal      int
	Name         string
	Major, Minor int   // compute capability
	SMs          int   // multiprocessors
	TotalBytes   int64 // device memory
}

func (d DeviceInfo) String() string {
	return fmt.Sprintf("%d: %s (sm_%d%d, %d SMs, %.1f GiB)", d.Ordinal, d.Name, d.Major, d.Minor, d.SMs,
		float64(d.TotalBytes)/(1<<30))
}

// DeviceCount returns the number of visible GPUs.
func (a *API) DeviceCount() (int, error) {
	var n int32
	err := a.check("cuDeviceGetCount", a.fn.DeviceGetCount.Call(uintptr(unsafe.Pointer(&n))))
	return int(n), err
}

// Device resolves ordinal.
func (a *API) Device(ordinal int) (Device, error) {
	var d int32
	err := a.check("cuDeviceGet", a.fn.DeviceGet.Call(uintptr(unsafe.Pointer(&d)), uintptr(ordinal)))
	return Device(d), err
}

func (a *API) attr(d Device, attr int) (int, error) {
	var v int32
	err := a.check("cuDeviceGetAttribute", a.fn.DeviceGetAttribute.Call(uintptr(unsafe.Pointer(&v)), uintptr(attr), uintptr(d)))
	return int(v), err
}

// Info describes the device at ordinal.
func (a *API) Info(ordinal int) (DeviceInfo, error) {
	info := DeviceInfo{Ordinal: ordinal}
	d, err := a.Device(ordinal)
	if err != nil {
		return info, err
	}
	name := make([]byte, 256)
	if err := a.check("cuDeviceGetName", a.fn.DeviceGetName.Call(uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), uintptr(d))); err != nil {
		return info, err
	}
	if i := bytes.IndexByte(name, 0); i >= 0 {
		info.Name = string(name[:i])
	}
	var total uint64
	if err := a.check("cuDeviceTotalMem_v2", a.fn.DeviceTotalMem.Call(uintptr(unsafe.Pointer(&total)), uintptr(d))); err != nil {
		return info, err
	}
	info.TotalBytes = int64(total)
	for _, f := range []struct {
		attr int
		dst  *int
	}{{attrComputeMajor, &info.Major}, {attrComputeMinor, &info.Minor}, {attrMultiprocessorCount, &info.SMs}} {
		if *f.dst, err = a.attr(d, f.attr); err != nil {
			return info, err
		}
	}
	return info, nil
}
