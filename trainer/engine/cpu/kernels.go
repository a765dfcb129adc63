package cpu

// kernels holds one preallocated task value per parallel kernel kind; a
// Backend runs one op at a time, so each is reused by every call.
type kernels struct {
	split  gemmSplit
	conv   convTask
	bn     bnTask
	bnPool bnPoolTask
	bnBack bnBackTask
	pool   poolTask
	ew     ewTask
	ch     chanTask
	red    redTask
}
