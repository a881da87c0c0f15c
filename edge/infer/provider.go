package infer

import (
	"fmt"
	"slices"
	"strings"
)

// Provider names an ONNX Runtime execution provider.
type Provider string

// The execution providers an Engine can use.
const (
	// ProviderTensorRT is NVIDIA TensorRT (the JetPack build of ONNX
	// Runtime on a Jetson).
	ProviderTensorRT Provider = "tensorrt"
	// ProviderCUDA is NVIDIA CUDA (cuDNN).
	ProviderCUDA Provider = "cuda"
	// ProviderCPU is ONNX Runtime's own CPU provider, always present.
	ProviderCPU Provider = "cpu"
)

// DefaultProviders returns the default order: TensorRT, CUDA, CPU.
func DefaultProviders() []Provider {
	return []Provider{ProviderTensorRT, ProviderCUDA, ProviderCPU}
}

// ParseProviders reads a comma-separated order such as "tensorrt,cuda,cpu"
// (case and spaces do not matter). Unknown, empty and repeated names are
// errors.
func ParseProviders(s string) ([]Provider, error) {
	var out []Provider
	for _, f := range strings.Split(s, ",") {
		out = append(out, Provider(strings.ToLower(strings.TrimSpace(f))))
	}
	if err := checkProviders(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkProviders validates an order.
func checkProviders(ps []Provider) error {
	if len(ps) == 0 {
		return fmt.Errorf("infer: no execution providers given; accepted are %s", strings.Join(known(), ", "))
	}
	for i, p := range ps {
		if !slices.Contains(DefaultProviders(), p) {
			return fmt.Errorf("infer: unknown execution provider %q; accepted are %s", p, strings.Join(known(), ", "))
		}
		if slices.Contains(ps[:i], p) {
			return fmt.Errorf("infer: execution provider %q given twice", p)
		}
	}
	return nil
}

func known() []string {
	var out []string
	for _, p := range DefaultProviders() {
		out = append(out, string(p))
	}
	return out
}

// ProviderFailure records an execution provider that could not open a
// model, with ONNX Runtime's reason.
type ProviderFailure struct {
	// Provider is the provider that failed.
	Provider Provider `json:"provider"`
	// Reason is the error, ONNX Runtime's message included verbatim.
	Reason string `json:"reason"`
}
