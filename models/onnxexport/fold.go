package onnxexport

import (
	"math"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/weights"
)

// fold returns convolution c's weight and bias with the eval-mode batch
// norm bn folded in: per output channel o, with s = γ/√(var+ε),
// w'[o] = w[o]·s and b'[o] = β − mean·s. The arithmetic is float64, rounded
// once to float32.
func fold(st *weights.State, c models.Conv, bn models.BatchNorm) (w, b []float32) {
	w0, _ := st.Lookup(c.Name + ".weight")
	gamma, _ := st.Lookup(bn.Name + ".weight")
	beta, _ := st.Lookup(bn.Name + ".bias")
	mean, _ := st.Lookup(bn.Name + ".running_mean")
	variance, _ := st.Lookup(bn.Name + ".running_var")
	per := c.In * c.Kernel * c.Kernel
	w = make([]float32, len(w0))
	b = make([]float32, c.Out)
	for o := range c.Out {
		s := float64(gamma[o]) / math.Sqrt(float64(variance[o])+BNEps)
		for i := o * per; i < (o+1)*per; i++ {
			w[i] = float32(float64(w0[i]) * s)
		}
		b[o] = float32(float64(beta[o]) - float64(mean[o])*s)
	}
	return w, b
}
