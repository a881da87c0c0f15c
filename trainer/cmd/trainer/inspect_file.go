package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/safetensors"
	"github.com/mocoedge/mocoedge/models/weights"
)

// checkpointInfo is `trainer inspect FILE.safetensors --json`'s output.
type checkpointInfo struct {
	Kind    string            `json:"kind"` // "checkpoint"
	Path    string            `json:"path"`
	Arch    string            `json:"arch"`
	Width   float64           `json:"width"`
	Head    string            `json:"head"`
	Params  int               `json:"params"`
	Tensors int               `json:"tensors"`
	MoCo    bool              `json:"moco"`
	Recipe  string            `json:"recipe,omitempty"`
	Epoch   *int              `json:"epoch,omitempty"`
	Step    *int              `json:"step,omitempty"`
	KNN     *float64          `json:"knn_top1,omitempty"`
	Trained map[string]string `json:"trained,omitempty"`
}

// onnxInfo is `trainer inspect FILE.onnx --json`'s output.
type onnxInfo struct {
	Kind        string             `json:"kind"` // "onnx"
	Path        string             `json:"path"`
	IRVersion   int64              `json:"ir_version"`
	Opsets      map[string]int64   `json:"opsets"`
	Producer    string             `json:"producer"`
	Inputs      []ioInfo           `json:"inputs"`
	Outputs     []ioInfo           `json:"outputs"`
	Ops         map[string]int     `json:"ops"`
	Initializer int                `json:"initializers"`
	Metadata    map[string]string  `json:"metadata,omitempty"`
	Manifest    *manifest.Manifest `json:"manifest,omitempty"`
	// ManifestError says why the manifest beside the file is missing or does not match it.
	ManifestError string `json:"manifest_error,omitempty"`
}

type ioInfo struct {
	Name  string   `json:"name"`
	Shape []string `json:"shape"`
}

// inspectFile describes a checkpoint or an ONNX model.
func inspectFile(env *environment, path string, asJSON bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var info any
	f, serr := safetensors.Decode(raw)
	switch {
	case serr == nil:
		ci, err := describeCheckpoint(path, f)
		if err != nil {
			return err
		}
		info = ci
	case errors.Is(serr, safetensors.ErrNotSafetensors):
		oi, err := describeONNX(path, raw)
		if err != nil {
			return fmt.Errorf("inspect %s: neither a safetensors checkpoint nor an ONNX model (%v)", path, err)
		}
		info = oi
	default:
		return fmt.Errorf("inspect %s: %w", path, serr)
	}
	if asJSON {
		return json.NewEncoder(env.stdout).Encode(info)
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, string(b))
	return nil
}

func describeCheckpoint(path string, f *safetensors.File) (checkpointInfo, error) {
	s, md, err := weights.Load(path)
	if err != nil {
		return checkpointInfo{}, err
	}
	ci := checkpointInfo{Kind: "checkpoint", Path: path, Arch: s.Arch.Name, Width: s.Arch.Width, Head: weights.Head(s.Arch),
		Params: s.Arch.NumParams(), Tensors: len(f.Tensors), MoCo: md["moco.config"] != ""}
	if ci.MoCo {
		var cfg struct {
			Recipe string `json:"recipe"`
		}
		if json.Unmarshal([]byte(md["moco.config"]), &cfg) == nil {
			ci.Recipe = cfg.Recipe
		}
	}
	if v, err := strconv.Atoi(md["moco.epoch"]); err == nil {
		ci.Epoch = &v
	}
	if v, err := strconv.Atoi(md["moco.step"]); err == nil {
		ci.Step = &v
	}
	if v, err := strconv.ParseFloat(md[weights.KeyKNN], 64); err == nil {
		ci.KNN = &v
	}
	for _, k := range []string{weights.KeyMethod, weights.KeyDataset, weights.KeyImages, weights.KeyEpochs, weights.KeySeconds} {
		if v := md[k]; v != "" {
			if ci.Trained == nil {
				ci.Trained = map[string]string{}
			}
			ci.Trained[k] = v
		}
	}
	return ci, nil
}

func describeONNX(path string, raw []byte) (onnxInfo, error) {
	var m onnx.ModelProto
	if err := proto.Unmarshal(raw, &m); err != nil {
		return onnxInfo{}, err
	}
	g := m.GetGraph()
	if g == nil || m.GetIrVersion() == 0 {
		return onnxInfo{}, errors.New("no graph or IR version")
	}
	oi := onnxInfo{Kind: "onnx", Path: path, IRVersion: m.GetIrVersion(), Opsets: map[string]int64{},
		Producer: strings.TrimSpace(m.GetProducerName() + " " + m.GetProducerVersion()), Ops: map[string]int{},
		Initializer: len(g.GetInitializer())}
	for _, o := range m.GetOpsetImport() {
		oi.Opsets[cmp.Or(o.GetDomain(), "ai.onnx")] = o.GetVersion()
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, in := range g.GetInput() {
		if !inits[in.GetName()] {
			oi.Inputs = append(oi.Inputs, valueInfo(in))
		}
	}
	for _, out := range g.GetOutput() {
		oi.Outputs = append(oi.Outputs, valueInfo(out))
	}
	for _, n := range g.GetNode() {
		oi.Ops[n.GetOpType()]++
	}
	for _, p := range m.GetMetadataProps() {
		if oi.Metadata == nil {
			oi.Metadata = map[string]string{}
		}
		oi.Metadata[p.GetKey()] = p.GetValue()
	}
	if man, err := manifest.Load(path); err != nil {
		oi.ManifestError = err.Error()
	} else {
		oi.Manifest = man
	}
	return oi, nil
}

func valueInfo(v *onnx.ValueInfoProto) ioInfo {
	io := ioInfo{Name: v.GetName()}
	for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
		if p := d.GetDimParam(); p != "" {
			io.Shape = append(io.Shape, p)
		} else {
			io.Shape = append(io.Shape, strconv.FormatInt(d.GetDimValue(), 10))
		}
	}
	return io
}
