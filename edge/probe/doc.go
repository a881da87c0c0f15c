// Package probe is the edge agent's on-device linear probe: from a few
// labelled frames it learns to name what every camera sees, on top of the
// frozen `features` output of the exported encoder.
//
// # Method
//
// The probe is multinomial logistic regression (softmax regression) with a
// bias, on L2-normalised features. Train minimises the class-balanced mean
// cross-entropy plus an L2 penalty on the weights (not the bias):
//
//	L(W, b) = Σ_i w_i · CE(softmax(W x_i + b), y_i) + (λ/2)·‖W‖²
//
// where each example of class c weighs 1/(C·count_c), that is N/(C·count_c)
// normalised by N, so every class counts the same however many labels it
// has. The problem is convex; it is solved full-batch with L-BFGS (ten
// correction pairs, a backtracking Armijo line search), which is
// deterministic and converges in tens to a few hundred iterations. The
// parameters and the optimiser's vectors are float64; the features and the
// weights the products see are float32, and the two products of each
// evaluation (logits = X·Wᵀ and the gradient Gᵀ·X) go through the shared
// SGEMM of internal/blas. Softmax, loss and bias gradient accumulate in
// float64.
//
// # Held-out accuracy and calibration
//
// Before the final model is trained on every label, Train estimates how
// well it generalises: with fewer than 50 labels in the smallest class by
// stratified k-fold cross-validation (Options.Folds, default 5), otherwise
// on a stratified 20% holdout. Model.Accuracy is the top-1 accuracy on
// those held-out labels and Model.AccuracyMethod says which estimate it is
// ("5-fold", "holdout 20%").
//
// The same held-out logits calibrate the scores: temperature scaling picks
// the T that minimises their negative log-likelihood (a one-dimensional
// convex problem in 1/T, solved by golden-section search on log T), so a
// prediction's scores softmax(z/T) are calibrated probabilities, and the
// held-out NLL at T is never worse than at T = 1. One exception: when the
// probe gets every held-out label right the NLL keeps falling as T → 0
// (every score 1, nothing ever Unknown), so then each held-out label is
// trusted with probability 1−1/(n+2) (Laplace's rule of succession), which
// gives T a finite, honest value.
//
// # Predictions
//
// Model.Predict and Model.PredictBatch (one GEMM for a batch) return the
// best class and up to five scored classes; the label is Unknown ("unknown")
// when the best calibrated score is below the model's threshold.
//
// # Persistence
//
// A Store keeps versions of the probe in a folder as probe-v<N>.json files
// (the format Encode writes: JSON with a SHA-256 of the model body), written
// crash-safely and pruned to the last few; Latest loads the newest valid
// one, reporting and skipping corrupt files without deleting them.
//
//	m, err := probe.Train(ctx, examples, probe.Options{GEMM: gemm})
//	m.Model = encoderSHA256
//	version, err := store.Save(m)
//	pred, err := m.Predict(features)
package probe
