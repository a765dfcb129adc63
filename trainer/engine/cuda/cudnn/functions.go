package cudnn

import (
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// functions are the bound symbols. Calls with double arguments are typed
// funcs (purego.RegisterFunc places floats in XMM registers); the rest are
// dynlib.Func. Everything outside convolution is optional, so a cuDNN build
// without the legacy ops library still serves convolutions.
type functions struct {
	GetVersion     dynlib.Func `sym:"cudnnGetVersion"`
	GetErrorString dynlib.Func `sym:"cudnnGetErrorString,optional"`
	// GetLastError (cuDNN 9) says why the last failing call on this thread
	// failed, which the status code alone rarely does.
	GetLastError dynlib.Func `sym:"cudnnGetLastErrorString,optional"`
	Create       dynlib.Func `sym:"cudnnCreate"`
	Destroy      dynlib.Func `sym:"cudnnDestroy"`
	SetStream    dynlib.Func `sym:"cudnnSetStream"`

	CreateTensor  dynlib.Func `sym:"cudnnCreateTensorDescriptor"`
	SetTensor4d   dynlib.Func `sym:"cudnnSetTensor4dDescriptor"`
	DestroyTensor dynlib.Func `sym:"cudnnDestroyTensorDescriptor"`
	CreateFilter  dynlib.Func `sym:"cudnnCreateFilterDescriptor"`
	SetFilter4d   dynlib.Func `sym:"cudnnSetFilter4dDescriptor"`
	DestroyFilter dynlib.Func `sym:"cudnnDestroyFilterDescriptor"`
	CreateConv    dynlib.Func `sym:"cudnnCreateConvolutionDescriptor"`
	SetConv2d     dynlib.Func `sym:"cudnnSetConvolution2dDescriptor"`
	SetConvGroups dynlib.Func `sym:"cudnnSetConvolutionGroupCount"`
	SetConvMath   dynlib.Func `sym:"cudnnSetConvolutionMathType"`
	DestroyConv   dynlib.Func `sym:"cudnnDestroyConvolutionDescriptor"`

	GetFwdAlgo       dynlib.Func `sym:"cudnnGetConvolutionForwardAlgorithm_v7"`
	GetBwdDataAlgo   dynlib.Func `sym:"cudnnGetConvolutionBackwardDataAlgorithm_v7"`
	GetBwdFilterAlgo dynlib.Func `sym:"cudnnGetConvolutionBackwardFilterAlgorithm_v7"`
	FindFwdAlgo      dynlib.Func `sym:"cudnnFindConvolutionForwardAlgorithmEx"`
	FindBwdDataAlgo  dynlib.Func `sym:"cudnnFindConvolutionBackwardDataAlgorithmEx"`
	FindBwdFiltAlgo  dynlib.Func `sym:"cudnnFindConvolutionBackwardFilterAlgorithmEx"`
	FwdWorkspace     dynlib.Func `sym:"cudnnGetConvolutionForwardWorkspaceSize"`
	BwdDataWorkspace dynlib.Func `sym:"cudnnGetConvolutionBackwardDataWorkspaceSize"`
	BwdFiltWorkspace dynlib.Func `sym:"cudnnGetConvolutionBackwardFilterWorkspaceSize"`
	ConvFwd          dynlib.Func `sym:"cudnnConvolutionForward"`
	ConvBwdData      dynlib.Func `sym:"cudnnConvolutionBackwardData"`
	ConvBwdFilter    dynlib.Func `sym:"cudnnConvolutionBackwardFilter"`

	DeriveBN dynlib.Func `sym:"cudnnDeriveBNTensorDescriptor,optional"`
	// cudnnBatchNormalizationForwardTraining(handle, mode, alpha, beta, xDesc, x, yDesc, y, bnDesc,
	// scale, bias, double expAvgFactor, runMean, runVar, double eps, saveMean, saveInvVar)
	BNForwardTraining func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd, x, yd, y, bnd, scale, bias uintptr,
		factor float64, runMean, runVar uintptr, eps float64, saveMean, saveInvVar uintptr) int32 `sym:"cudnnBatchNormalizationForwardTraining,optional"`
	// cudnnBatchNormalizationForwardInference(handle, mode, alpha, beta, xDesc, x, yDesc, y, bnDesc,
	// scale, bias, estMean, estVar, double eps)
	BNForwardInference func(h uintptr, mode int32, alpha, beta unsafe.Pointer, xd, x, yd, y, bnd, scale, bias,
		mean, variance uintptr, eps float64) int32 `sym:"cudnnBatchNormalizationForwardInference,optional"`
	// cudnnBatchNormalizationBackward(handle, mode, alphaData, betaData, alphaParam, betaParam, xDesc, x,
	// dyDesc, dy, dxDesc, dx, bnDesc, scale, dScale, dBias, double eps, saveMean, saveInvVar)
	BNBackward func(h uintptr, mode int32, alphaD, betaD, alphaP, betaP unsafe.Pointer, xd, x, dyd, dy, dxd, dx,
		bnd, scale, dscale, dbias uintptr, eps float64, saveMean, saveInvVar uintptr) int32 `sym:"cudnnBatchNormalizationBackward,optional"`

	CreatePool  dynlib.Func `sym:"cudnnCreatePoolingDescriptor,optional"`
	SetPool2d   dynlib.Func `sym:"cudnnSetPooling2dDescriptor,optional"`
	DestroyPool dynlib.Func `sym:"cudnnDestroyPoolingDescriptor,optional"`
	PoolFwd     dynlib.Func `sym:"cudnnPoolingForward,optional"`
	PoolBwd     dynlib.Func `sym:"cudnnPoolingBackward,optional"`

	CreateAct  dynlib.Func                                             `sym:"cudnnCreateActivationDescriptor,optional"`
	SetAct     func(d uintptr, mode, nanOpt int32, coef float64) int32 `sym:"cudnnSetActivationDescriptor,optional"`
	DestroyAct dynlib.Func                                             `sym:"cudnnDestroyActivationDescriptor,optional"`
	ActFwd     dynlib.Func                                             `sym:"cudnnActivationForward,optional"`
	ActBwd     dynlib.Func                                             `sym:"cudnnActivationBackward,optional"`
}
