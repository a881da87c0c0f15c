#!/usr/bin/env bash
# devicecheck.sh: the CUDA backend's checks on a GPU machine, in one run.
#
# Run from the repository root. It builds nothing: build these first, on any
# machine, and carry them along (bin/ is git-ignored):
#   go build -ldflags='-s -w' -o bin/trainer ./trainer/cmd/trainer
#   go test -c -ldflags='-s -w' -o bin/cuda.test ./trainer/backend/cuda/
# (stripped, the two fit the device tool's 64 MiB carry limit with room).
#
# It runs, each step logged under $OUT (or a temporary folder):
#   1. the parity test: one MoCo step on cuda vs cpu (TF32 on and off);
#   2. trainer bench --device cuda: resnet18-cifar batch 512, resnet50 224 batch 256;
#   3. the same steps in PyTorch (pytorch_moco_step.py), for the img/s ratio;
#   4. trainer pretrain --recipe cifar --device cuda for PRETRAIN_SECONDS
#      (default 300) on CIFAR-10 with the kNN monitor every epoch;
# then prints one table. A failed step is a row saying so; the script goes on.
#
# Environment: OUT (log folder), PRETRAIN_SECONDS, BENCH_STEPS (default 10),
# MOCOEDGE_CIFAR10 (folder of train.tar.gz and test.tar.gz; default
# shared/datasets/cifar10 or ../shared/datasets/cifar10), PYTHON (python3).
#
# Written without a GPU: never run yet.
set -uo pipefail

logs="${OUT:-$(mktemp -d)}"
mkdir -p "$logs"
python="${PYTHON:-python3}"
bench_steps="${BENCH_STEPS:-10}"
pretrain_seconds="${PRETRAIN_SECONDS:-300}"
here="trainer/backend/cuda"
export MOCOEDGE_CUDA_REQUIRED=1

rows=()
row() { rows+=("$(printf '%-34s | %-12s | %s' "$1" "$2" "$3")"); }

# json_field FILE KEY prints KEY of the last JSON line in FILE (empty if none).
json_field() {
	"$python" - "$1" "$2" <<'PY' 2>/dev/null
import json, sys
last = None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        try:
            last = json.loads(line)
        except ValueError:
            pass
v = (last or {}).get(sys.argv[2], "")
print(f"{v:.1f}" if isinstance(v, float) else v)
PY
}

for f in bin/trainer bin/cuda.test; do
	if [[ ! -x $f ]]; then
		echo "devicecheck: $f is missing; build it first (see the top of $0)" >&2
		exit 1
	fi
done

gpu="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
echo "GPU: ${gpu:-unknown (nvidia-smi failed)}; logs in $logs"

# 1. Parity.
if bin/cuda.test -test.run 'TestMoCoStepMatchesCPU' -test.v >"$logs/parity.log" 2>&1; then
	row "parity cuda vs cpu" "pass" "$(grep -c -- '--- PASS: TestMoCoStepMatchesCPU/' "$logs/parity.log") cases; loss and updates in $logs/parity.log"
else
	why="$(grep -m 1 -E '> 1e-|is set but|panic:|cuda backend:' "$logs/parity.log")"
	row "parity cuda vs cpu" "FAIL" "${why:-$(tail -n 1 "$logs/parity.log")}"
fi

# 2 and 3. Throughput, ours and PyTorch's, on the same card.
bench() { # label, log name, trainer bench args, pytorch args (space-separated)
	local label=$1 log=$2 ours theirs ratio
	local -a targs pargs
	read -r -a targs <<<"$3"
	read -r -a pargs <<<"$4"
	if bin/trainer bench --device cuda --steps "$bench_steps" --json "${targs[@]}" >"$logs/bench-$log.json" 2>"$logs/bench-$log.err"; then
		ours="$(json_field "$logs/bench-$log.json" step_img_per_s)"
	else
		ours=""
		row "bench $label (trainer)" "FAIL" "$(tail -n 1 "$logs/bench-$log.err")"
	fi
	if "$python" "$here/pytorch_moco_step.py" --step supervised --steps "$bench_steps" "${pargs[@]}" >"$logs/torch-$log.json" 2>"$logs/torch-$log.err"; then
		theirs="$(json_field "$logs/torch-$log.json" img_per_s)"
	else
		theirs=""
		row "bench $label (pytorch)" "FAIL" "$(tail -n 1 "$logs/torch-$log.err")"
	fi
	if [[ -n $ours && -n $theirs ]]; then
		ratio="$("$python" -c "print(f'{$ours / $theirs:.2f}')")"
		row "bench $label img/s" "$ratio x" "trainer $ours, pytorch $theirs (supervised step, TF32 on)"
	fi
}
bench "resnet18-cifar b512" r18cifar "--arch resnet18-cifar --batch 512" "--arch resnet18-cifar --batch 512"
bench "resnet50 224 b256" r50 "--arch resnet50 --input 224 --batch 256" "--arch resnet50 --input 224 --batch 256"

# PyTorch's MoCo step with the cifar recipe's settings, beside pretrain's img/s.
if "$python" "$here/pytorch_moco_step.py" --step moco --arch resnet18-cifar --batch 512 --queue 4096 --bn-splits 8 \
	--momentum 0.99 --temperature 0.1 >"$logs/torch-moco.json" 2>"$logs/torch-moco.err"; then
	torch_moco="$(json_field "$logs/torch-moco.json" img_per_s)"
else
	torch_moco=""
	row "pytorch moco step (cifar)" "FAIL" "$(tail -n 1 "$logs/torch-moco.err")"
fi

# 4. Pretraining on CIFAR-10 for a few minutes, kNN every epoch.
cifar="${MOCOEDGE_CIFAR10:-}"
for d in shared/datasets/cifar10 ../shared/datasets/cifar10; do
	if [[ -z $cifar && -f $d/train.tar.gz ]]; then
		cifar=$d
	fi
done
if [[ -z $cifar ]]; then
	row "pretrain cifar" "SKIPPED" "no CIFAR-10: set MOCOEDGE_CIFAR10 to the folder of train.tar.gz and test.tar.gz"
else
	run="$logs/pretrain-run"
	rm -rf "$run"
	timeout -s INT -k 30 "$pretrain_seconds" bin/trainer pretrain --recipe cifar --device cuda \
		--data "$cifar/train.tar.gz" --eval "$cifar/test.tar.gz" --out "$run" --eval-every 1 --json \
		>"$logs/pretrain.json" 2>"$logs/pretrain.err"
	status=$?
	knn="$("$python" - "$run/metrics.jsonl" <<'PY' 2>/dev/null
import json, sys
print(", ".join(f"e{r['epoch']:g} {r['knn_top1']:.2f}" for r in map(json.loads, open(sys.argv[1])) if r.get("knn_top1") is not None))
PY
)"
	imgs="$(json_field "$logs/pretrain.json" img_per_s)"
	if [[ -n $knn ]]; then
		row "pretrain cifar ${pretrain_seconds}s" "${imgs:-?} img/s" "kNN top-1 per epoch: $knn; pytorch moco step ${torch_moco:-?} img/s"
	else
		row "pretrain cifar ${pretrain_seconds}s" "FAIL" "exit $status, no kNN: $(tail -n 1 "$logs/pretrain.err")"
	fi
fi

echo
printf '%-34s | %-12s | %s\n' "check (${gpu:-unknown GPU})" "result" "detail"
printf '%s\n' "-----------------------------------+--------------+-------------------------------------------"
printf '%s\n' "${rows[@]}"
