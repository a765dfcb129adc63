// Package optim holds what turns gradients into weight updates: the SGD and
// AdamW optimizers, learning-rate schedules, per-group learning-rate
// multipliers, and the weight averages SWA and EMA.
//
// Schedules are pure functions of the step, and the averages work on host
// copies of the weights, so both are usable and testable without a backend.
// The optimizers drive the backend's update kernels over the engine's
// parameter registry. The package does not compute gradients, choose
// hyperparameters or run the training loop: package trainer does that.
package optim
