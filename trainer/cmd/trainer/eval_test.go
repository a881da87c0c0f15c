package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lastJSON decodes the last line of out, which --json promises is one object.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not one JSON object: %v\n%s", err, out)
	}
	return res
}

// percent returns res[key] and fails unless it is a number in (0, 100].
func percent(t *testing.T, res map[string]any, key string) float64 {
	t.Helper()
	v, ok := res[key].(float64)
	if !ok || !(v > 0 && v <= 100) {
		t.Errorf("%s = %v, want a percentage in (0, 100]", key, res[key])
	}
	return v
}

func TestEvalRandomInitOnRealImages(t *testing.T) {
	code, out, errs := runCLI(t, "eval", "--random-init", "--arch", "resnet18-cifar", "--width", "0.125",
		"--train", cifar(t, "train.tar.gz"), "--test", cifar(t, "test.tar.gz"),
		"--limit", "500", "--test-limit", "200", "--protocol", "both", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Log(out)
	for _, want := range []string{"encoder: resnet18-cifar x0.125 + fc head 128 (random init, seed 1)", "kNN (k 200, T 0.1): top-1", "linear (100 epochs"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	res := lastJSON(t, out)
	knn := percent(t, res, "knn_top1")
	percent(t, res, "knn_features_top1")
	top1, top5 := percent(t, res, "linear_top1"), percent(t, res, "linear_top5")
	if top5 < top1 {
		t.Errorf("linear top-5 %.2f%% < top-1 %.2f%%", top5, top1)
	}
	// Even an untrained network's features carry colour and layout: the
	// kNN beats chance (10%) on CIFAR-10.
	if knn <= 10 {
		t.Errorf("random-init kNN top-1 %.2f%%, want above chance (10%%)", knn)
	}
	if res["arch"] != "resnet18-cifar" || res["params"].(float64) <= 0 || res["train_images"] != 500.0 || res["test_images"] != 200.0 {
		t.Errorf("description: arch %v, params %v, images %v/%v", res["arch"], res["params"], res["train_images"], res["test_images"])
	}
}

func TestEvalAcceptsPretrainCheckpoint(t *testing.T) {
	dir := t.TempDir()
	train := cifar(t, "train.tar.gz")
	code, _, errs := runCLI(t, "pretrain", "--recipe", "cifar", "--width", "0.0625", "--batch", "32", "--queue", "64",
		"--bn-splits", "4", "--epochs", "1", "--limit", "64", "--data", train, "--out", dir)
	if code != 0 {
		t.Fatalf("pretrain: exit %d: %s", code, errs)
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	code, out, errs := runCLI(t, "eval", "--checkpoint", ck, "--train", train, "--test", cifar(t, "test.tar.gz"),
		"--limit", "200", "--test-limit", "100", "--linear-epochs", "20", "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	res := lastJSON(t, out)
	if res["weights"] != ck || res["arch"] != "resnet18-cifar" || res["width"] != 0.0625 || res["norm"] != "cifar10" {
		t.Errorf("checkpoint read as %v %v x%v, norm %v", res["weights"], res["arch"], res["width"], res["norm"])
	}
	percent(t, res, "knn_top1")
	top1, top5 := percent(t, res, "linear_top1"), percent(t, res, "linear_top5")
	if top5 < top1 {
		t.Errorf("linear top-5 %.2f%% < top-1 %.2f%%", top5, top1)
	}

	// One protocol reports only its own numbers.
	code, out, errs = runCLI(t, "eval", "--checkpoint", ck, "--train", train, "--test", cifar(t, "test.tar.gz"),
		"--limit", "100", "--test-limit", "50", "--protocol", "knn", "--json")
	if code != 0 {
		t.Fatalf("eval --protocol knn: exit %d: %s", code, errs)
	}
	res = lastJSON(t, out)
	percent(t, res, "knn_top1")
	if _, ok := res["linear_top1"]; ok {
		t.Errorf("--protocol knn reported a linear accuracy: %v", res)
	}
}

func TestEvalUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"eval"}, "give exactly one of --checkpoint FILE and --random-init"},
		{[]string{"eval", "--checkpoint", "x.safetensors", "--random-init"}, "give exactly one of"},
		{[]string{"eval", "--random-init"}, "--train and --test are required"},
		{[]string{"eval", "--checkpoint", "x.safetensors", "--width", "0.5", "--train", "a", "--test", "b"}, "--width describe a --random-init network"},
		{[]string{"eval", "--random-init", "--train", "a", "--test", "b", "--protocol", "svm"}, "accepted are knn, linear, both"},
		{[]string{"eval", "--random-init", "--train", "a", "--test", "b", "--knn-k", "0"}, "--knn-k must be >= 1"},
		{[]string{"eval", "--random-init", "--train", "a", "--test", "b", "--linear-lr", "-1"}, "--linear-lr must be positive"},
		{[]string{"eval", "--random-init", "--train", "a", "--test", "b", "--norm", "mnist"}, "accepted are auto, cifar10, imagenet"},
		{[]string{"eval", "--random-init", "--train", "a", "--test", "b", "--arch", "vgg16"}, "accepted are"},
		{[]string{"eval", "--random-init", "--train", "a", "--test", "b", "--limit", "-3"}, "must be >= 0"},
	}
	for _, tc := range cases {
		code, _, errs := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
		if strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: want a one-line error, got %q", tc.args, errs)
		}
	}
}

func TestEvalRefusesDifferentClasses(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"train/cat/1.png", "train/dog/1.png", "test/cat/1.png", "test/emu/1.png"} {
		path := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		file, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(file, image.NewRGBA(image.Rect(0, 0, 32, 32))); err != nil {
			t.Fatal(err)
		}
		file.Close()
	}
	code, _, errs := runCLI(t, "eval", "--random-init", "--width", "0.0625",
		"--train", filepath.Join(dir, "train"), "--test", filepath.Join(dir, "test"))
	if code != 1 || !strings.Contains(errs, "the splits' classes differ") {
		t.Errorf("exit %d, stderr %q; want exit 1 and the classes named", code, errs)
	}
}
