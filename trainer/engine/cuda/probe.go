package cuda

import (
	"errors"
	"fmt"

	"sweep/trainer/engine/cuda/cublas"
	"sweep/trainer/engine/cuda/cudnn"
	"sweep/trainer/engine/cuda/devsched"
	"sweep/trainer/engine/cuda/driver"
	"sweep/trainer/engine/cuda/dynlib"
	"sweep/trainer/engine/cuda/nvrtc"
)

// LibStatus is one library as Probe found it.
type LibStatus struct {
	Name    string
	Path    string // "" when not loaded
	Where   string // search step that found it
	Version string
	Err     error
}

// DeviceStatus is one GPU with its free memory.
type DeviceStatus struct {
	driver.DeviceInfo
	FreeBytes int64
	Err       error
}

// Report is what `sweep doctor` prints about CUDA.
type Report struct {
	Libraries []LibStatus
	Devices   []DeviceStatus
	Err       error // why CUDA cannot be used at all, if it cannot
}

// Usable reports whether the backend can run: a device, cuBLAS and NVRTC.
func (r Report) Usable() bool {
	if r.Err != nil || len(r.Devices) == 0 {
		return false
	}
	for _, l := range r.Libraries {
		if l.Err != nil && l.Name != dynlib.CUDNN.Name {
			return false
		}
	}
	return true
}

// Probe loads each library and lists the devices with their free memory.
// It retains each device's primary context (for the process, see
// driver.API.Primary) to read free memory.
func Probe(getenv func(string) string) Report {
	f := dynlib.NewFinder()
	if getenv != nil {
		f.Getenv = getenv
	}
	var r Report
	api, err := driver.SharedFrom(f)
	drv := LibStatus{Name: dynlib.Driver.Name, Err: err}
	if api != nil {
		drv.Path, drv.Where = api.Lib().Path, api.Lib().Where
		if v, err := api.Version(); err == nil {
			drv.Version = fmt.Sprintf("CUDA %d.%d", v/1000, v%1000/10)
			f.DriverVersion = v
		}
	}
	r.Libraries = append(r.Libraries, drv)
	r.Libraries = append(r.Libraries, probeCUBLAS(f), probeCUDNN(f), probeNVRTC(f))
	if err != nil {
		r.Err = err
		return r
	}
	n, err := api.DeviceCount()
	if err != nil {
		r.Err = err
		return r
	}
	if n == 0 {
		r.Err = errors.New("cuda: the driver sees no GPU")
	}
	for i := 0; i < n; i++ {
		r.Devices = append(r.Devices, probeDevice(api, i))
	}
	return r
}

func probeDevice(api *driver.API, i int) DeviceStatus {
	var d DeviceStatus
	d.DeviceInfo, d.Err = api.Info(i)
	if d.Err != nil {
		return d
	}
	ctx, err := api.Primary(i) // not Retain+Release: that would destroy the context a backend may use next
	if err != nil {
		d.Err = err
		return d
	}
	leave := ctx.Enter()
	d.FreeBytes, _, d.Err = ctx.MemInfo()
	leave()
	return d
}

func status(l *dynlib.Lib, name string, err error) LibStatus {
	s := LibStatus{Name: name, Err: err}
	if l != nil {
		s.Path, s.Where = l.Path, l.Where
	}
	return s
}

func probeCUBLAS(f *dynlib.Finder) LibStatus {
	l, err := cublas.Load(f)
	if err != nil {
		return status(nil, dynlib.CUBLAS.Name, err)
	}
	s := status(l.Lib(), dynlib.CUBLAS.Name, nil)
	s.Version, s.Err = l.Version()
	return s
}

func probeCUDNN(f *dynlib.Finder) LibStatus {
	l, err := cudnn.Load(f)
	if err != nil {
		return status(nil, dynlib.CUDNN.Name, err)
	}
	s := status(l.Lib(), dynlib.CUDNN.Name, nil)
	s.Version = cudnnVersion(l.Version())
	return s
}

func probeNVRTC(f *dynlib.Finder) LibStatus {
	c, err := nvrtc.Load(f)
	if err != nil {
		return status(nil, dynlib.NVRTC.Name, err)
	}
	s := status(c.Lib(), dynlib.NVRTC.Name, nil)
	ma, mi := c.Version()
	s.Version = fmt.Sprintf("%d.%d", ma, mi)
	return s
}

// Devices lists the GPUs with their free memory for devsched.Plan; none
// (and the reason) when the driver is missing or sees no GPU.
func Devices() ([]devsched.Device, error) {
	api, err := driver.Shared()
	if err != nil {
		return nil, err
	}
	n, err := api.DeviceCount()
	if err != nil {
		return nil, err
	}
	var out []devsched.Device
	for i := 0; i < n; i++ {
		d := probeDevice(api, i)
		if d.Err != nil {
			return nil, d.Err
		}
		out = append(out, devsched.Device{Ordinal: i, Name: d.Name, FreeBytes: d.FreeBytes, TotalBytes: d.TotalBytes})
	}
	return out, nil
}
