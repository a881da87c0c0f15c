#!/usr/bin/env bash
# Install what the project's tests need on a Debian machine that has Go:
# Debian packages (OpenBLAS, Mosquitto, ffmpeg, a C compiler for cgo, npm) and
# the ONNX Runtime shared library (via deploy/fetch-onnxruntime.sh).
#
# Idempotent; prints nothing and exits 0 when everything is present.
set -euo pipefail

# Debian packages the tests use.
#   libopenblas0     fast GEMM loaded at run time (internal/blas)
#   libturbojpeg0    optional fast JPEG decoding on the edge (edge/preprocess)
#   mosquitto        real MQTT broker in tests
#   ffmpeg           real frame source in tests
#   gcc, libc6-dev   cgo: github.com/yalue/onnxruntime_go is a cgo package
#   ca-certificates  HTTPS to the npm registry (fetch-onnxruntime.sh)
#   g++              builds the CUDA kernels as C++ for the CPU emulation test (trainer/backend/cuda)
#   systemd          systemd-analyze verify of the units in deploy/systemd (deploy tests)
#   and the ShellCheck package, which lints every deploy/**/*.sh (deploy tests)
readonly PACKAGES=(libopenblas0 libturbojpeg0 mosquitto ffmpeg gcc libc6-dev ca-certificates g++ shellcheck systemd)

prog="$(basename "${BASH_SOURCE[0]}")"
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<EOF
Usage: deploy/${prog} [--help]

Installs what mocoedge's tests need on Debian (run as root when something is
missing; prints nothing and exits 0 when everything is already there):
  - Debian packages: ${PACKAGES[*]}
    plus npm when no 'npm' command is found (apt-get update runs only when
    something is missing)
  - the ONNX Runtime shared library, via deploy/fetch-onnxruntime.sh
EOF
}

die() {
	printf '%s: error: %s\n' "${prog}" "$*" >&2
	exit 1
}

case "${1:-}" in
"") ;;
-h | --help)
	usage
	exit 0
	;;
*) die "unknown argument '$1' (try --help)" ;;
esac

installed() {
	local status
	status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" || return 1
	[[ "${status}" == *" ok installed" ]]
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian and its derivatives only"

missing=()
for pkg in "${PACKAGES[@]}"; do
	installed "${pkg}" || missing+=("${pkg}")
done
# npm may come from Debian's npm package or bundled with a NodeSource nodejs
# package; only the command matters. Debian's npm pulls in nodejs.
if ! command -v npm >/dev/null 2>&1; then
	missing+=(npm)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
	if [[ "$(id -u)" -ne 0 ]]; then
		die "missing Debian packages: ${missing[*]}; rerun as root (sudo deploy/${prog}) or run: sudo apt-get install ${missing[*]}"
	fi
	printf '%s: installing %s\n' "${prog}" "${missing[*]}" >&2
	log="$(mktemp "${TMPDIR:-/tmp}/install-deps.XXXXXX")"
	trap 'rm -f "${log}"' EXIT
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get update -q >"${log}" 2>&1; then
		cat "${log}" >&2
		die "apt-get update failed (output above)"
	fi
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"${log}" 2>&1; then
		cat "${log}" >&2
		die "apt-get install ${missing[*]} failed (output above)"
	fi
fi

"${script_dir}/fetch-onnxruntime.sh"
