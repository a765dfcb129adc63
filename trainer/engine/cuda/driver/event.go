package driver

import "unsafe"

// Event is a CUevent, used to time GPU work and order streams.
type Event uintptr

// NewEvent creates an event with timing enabled.
func (c *Context) NewEvent() (Event, error) {
	var e uintptr
	err := c.api.check("cuEventCreate", c.api.fn.EventCreate.Call(uintptr(unsafe.Pointer(&e)), 0))
	return Event(e), err
}

// Record records e on stream s.
func (c *Context) Record(e Event, s Stream) error {
	return c.api.check("cuEventRecord", c.api.fn.EventRecord.Call(uintptr(e), uintptr(s)))
}

// Wait makes stream s wait for e (without blocking the host).
func (c *Context) Wait(s Stream, e Event) error {
	return c.api.check("cuStreamWaitEvent", c.api.fn.StreamWaitEvent.Call(uintptr(s), uintptr(e), 0))
}

// ElapsedMs waits for end and returns the milliseconds between two
// recorded events.
func (c *Context) ElapsedMs(start, end Event) (float32, error) {
	if err := c.api.check("cuEventSynchronize", c.api.fn.EventSynchronize.Call(uintptr(end))); err != nil {
		return 0, err
	}
	var ms float32
	err := c.api.check("cuEventElapsedTime", c.api.fn.EventElapsedTime.Call(uintptr(unsafe.Pointer(&ms)), uintptr(start), uintptr(end)))
	return ms, err
}

// DestroyEvent destroys e.
func (c *Context) DestroyEvent(e Event) error {
	return c.api.check("cuEventDestroy_v2", c.api.fn.EventDestroy.Call(uintptr(e)))
}

// SyncEvent waits until the work before e's last Record completes.
func (c *Context) SyncEvent(e Event) error {
	return c.api.check("cuEventSynchronize", c.api.fn.EventSynchronize.Call(uintptr(e)))
}
