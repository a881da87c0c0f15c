package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectFiles(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if code, _, errs := runCLI(t, "pretrain", "--recipe", "cifar", "--width", "0.0625", "--batch", "32", "--queue", "64", "--bn-splits", "4",
		"--epochs", "1", "--limit", "64", "--data", cifar(t, "train.tar.gz"), "--out", run); code != 0 {
		t.Fatalf("pretrain: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "inspect", filepath.Join(run, "checkpoint.safetensors"), "--json")
	if code != 0 {
		t.Fatalf("inspect checkpoint: exit %d: %s", code, errs)
	}
	var ci checkpointInfo
	if err := json.Unmarshal([]byte(out), &ci); err != nil {
		t.Fatal(err)
	}
	if !ci.MoCo || ci.Arch != "resnet18-cifar" || ci.Recipe != "cifar" || ci.Step == nil || *ci.Step != 2 || ci.Epoch == nil || *ci.Epoch != 1 || ci.Params == 0 {
		t.Errorf("checkpoint info %+v", ci)
	}

	model := filepath.Join(dir, "enc.onnx")
	if code, _, errs := runCLI(t, "export", "--checkpoint", filepath.Join(run, "checkpoint.safetensors"), "--out", model); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	code, out, errs = runCLI(t, "inspect", "--json", model)
	if code != 0 {
		t.Fatalf("inspect onnx: exit %d: %s", code, errs)
	}
	var oi onnxInfo
	if err := json.Unmarshal([]byte(out), &oi); err != nil {
		t.Fatal(err)
	}
	if oi.IRVersion != 8 || oi.Opsets["ai.onnx"] != 17 || oi.Ops["Conv"] != 20 || oi.Ops["BatchNormalization"] != 0 ||
		oi.Manifest == nil || oi.ManifestError != "" || len(oi.Inputs) != 1 || strings.Join(oi.Inputs[0].Shape, ",") != "N,3,32,32" {
		t.Errorf("onnx info %+v", oi)
	}

	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "inspect", junk)
	if code != 1 || !strings.Contains(errs, "neither a safetensors checkpoint nor an ONNX model") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("junk file: exit %d, %q", code, errs)
	}
}
