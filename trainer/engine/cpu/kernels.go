package cpu

// kernels holds one preallocated task value per parallel kernel kind; a
// Backend runs one op at a time, so each is reused by every call.
type kernels struct {
	gemm    gemmTask
	im2col  im2colTask
	col2im  im2colTask
	permute permuteTask
	bn      bnTask
	bnBack  bnBackTask
	pool    poolTask
	ew      ewTask
	ch      chanTask
	red     redTask
}
