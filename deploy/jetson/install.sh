#!/usr/bin/env bash
# Install mocoedge on a Jetson running JetPack 6 (L4T r36: Ubuntu 22.04,
# CUDA 12, TensorRT 10): the edge and fwbridge binaries, a GPU build of ONNX
# Runtime with the TensorRT and CUDA execution providers, the mocoedge
# system user, /etc/mocoedge, /var/lib/mocoedge and the systemd units.
#
# Run with --help for usage. Idempotent: a second run changes nothing and
# prints nothing; --dry-run prints every action instead of doing it.
set -euo pipefail

readonly SERVICE_USER="mocoedge"
readonly OPTIONAL_GROUPS=(video dialout render)
readonly ORT_REQUIRED=(libonnxruntime.so libonnxruntime_providers_shared.so
	libonnxruntime_providers_cuda.so libonnxruntime_providers_tensorrt.so)
readonly UNITS=(mocoedge.target mocoedge-edge.service mocoedge-fwbridge.service)

# Paths as the running system sees them (written into configs).
readonly BIN_PREFIX="/usr/local/bin"
readonly ORT_PREFIX="/usr/local/lib/mocoedge/onnxruntime"
readonly ETC_DIR="/etc/mocoedge"
readonly STATE_DIR="/var/lib/mocoedge"
readonly UNIT_DIR="/etc/systemd/system"

prog="$(basename "${BASH_SOURCE[0]}")"
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
deploy_dir="$(cd "${script_dir}/.." && pwd)"

usage() {
	cat <<EOF
Usage: deploy/jetson/${prog} --ort DIR [--bin DIR] [--enable-fwbridge] [--now]
                          [--root DIR] [--dry-run] [--help]

Installs mocoedge on a Jetson with JetPack 6 (run as root):
  - edge and fwbridge from --bin DIR (default ./bin) to ${BIN_PREFIX}
  - ONNX Runtime with the TensorRT and CUDA providers from --ort DIR to
    ${ORT_PREFIX}
  - the system user ${SERVICE_USER} (in the groups video, dialout and render,
    those that exist), ${ETC_DIR} and ${STATE_DIR} (models go in
    ${STATE_DIR}/models)
  - ${ETC_DIR}/edge.yaml from 'edge config --print-default' with data_dir
    and model.ort_library set, and an ${ETC_DIR}/edge.env template for
    secrets (MOCOEDGE_MQTT_PASSWORD=...); existing files are never changed
  - the systemd units of deploy/systemd to ${UNIT_DIR}; enables
    mocoedge.target and mocoedge-edge.service

Options:
  --ort DIR          folder of the ONNX Runtime GPU build for JetPack: DIR or
                     DIR/lib must hold ${ORT_REQUIRED[*]}
  --bin DIR          folder of the aarch64 edge and fwbridge binaries
                     (default ./bin)
  --enable-fwbridge  also enable mocoedge-fwbridge.service (it needs
                     ${ETC_DIR}/fwbridge.env naming the port; do not use it
                     with bridge.enabled in edge.yaml)
  --now              start the enabled services, or restart them when this
                     run changed a binary, a library or a unit
  --root DIR         install below DIR instead of / (images, tests): creating
                     the user, file ownership and starting are skipped
  --dry-run          print every action instead of doing it (needs no root)
  -h, --help         this help

Prints nothing and exits 0 when everything is already in place.

Where the ONNX Runtime build comes from: the edge needs the C library
libonnxruntime.so (1.24 or later, built for CUDA 12 and TensorRT 10) with its
provider libraries beside it. The onnxruntime GitHub releases publish
onnxruntime-linux-aarch64-VERSION.tgz, but that build is CPU-only (this
script refuses it for lack of the provider libraries). Take a JetPack 6
build with the TensorRT provider from the Jetson Zoo
(https://elinux.org/Jetson_Zoo#ONNX_Runtime, which links NVIDIA's Jetson AI
Lab builds), or build it on the Jetson from the onnxruntime sources as the
ONNX Runtime documentation's TensorRT execution provider page describes for
Jetson:
  ./build.sh --config Release --build_shared_lib --parallel --skip_tests \\
    --use_tensorrt --cuda_home /usr/local/cuda \\
    --cudnn_home /usr/lib/aarch64-linux-gnu \\
    --tensorrt_home /usr/lib/aarch64-linux-gnu
then pass its build/Linux/Release folder as --ort.
EOF
}

die() {
	printf '%s: error: %s\n' "${prog}" "$*" >&2
	exit 1
}

warn() {
	printf '%s: warning: %s\n' "${prog}" "$*" >&2
}

bin_dir="./bin"
ort_dir=""
root="/"
dry_run=0
enable_fwbridge=0
start_now=0
while [[ $# -gt 0 ]]; do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--dry-run) dry_run=1 ;;
	--enable-fwbridge) enable_fwbridge=1 ;;
	--now) start_now=1 ;;
	--bin | --ort | --root)
		[[ $# -ge 2 && -n "$2" ]] || die "$1 needs a folder (try --help)"
		case "$1" in
		--bin) bin_dir="$2" ;;
		--ort) ort_dir="$2" ;;
		*) root="$2" ;;
		esac
		shift
		;;
	--bin=* | --ort=* | --root=*)
		value="${1#*=}"
		[[ -n "${value}" ]] || die "${1%%=*} needs a folder (try --help)"
		case "$1" in
		--bin=*) bin_dir="${value}" ;;
		--ort=*) ort_dir="${value}" ;;
		*) root="${value}" ;;
		esac
		;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done

[[ -d "${root}" ]] || die "--root ${root}: no such folder"
root="$(cd "${root}" && pwd -P)"
system=0 # 1: installing into the running system (the root is /)
[[ "${root}" == "/" ]] && system=1

# dest PATH: where this run writes PATH.
dest() {
	if [[ ${system} -eq 1 ]]; then
		printf '%s' "$1"
	else
		printf '%s%s' "${root}" "$1"
	fi
}
d_bin="$(dest "${BIN_PREFIX}")"
d_ort="$(dest "${ORT_PREFIX}")"
d_etc="$(dest "${ETC_DIR}")"
d_state="$(dest "${STATE_DIR}")"
d_units="$(dest "${UNIT_DIR}")"

# --- Checks, before anything changes -------------------------------------

[[ -n "${ort_dir}" ]] ||
	die "--ort DIR is required: the folder of an ONNX Runtime GPU build for JetPack (--help says where to get one)"
[[ -d "${ort_dir}" ]] || die "--ort ${ort_dir}: no such folder"
if [[ ! -e "${ort_dir}/libonnxruntime.so" && -e "${ort_dir}/lib/libonnxruntime.so" ]]; then
	ort_dir="${ort_dir}/lib"
fi
ort_missing=()
for lib in "${ORT_REQUIRED[@]}"; do
	[[ -e "${ort_dir}/${lib}" ]] || ort_missing+=("${lib}")
done
if [[ ${#ort_missing[@]} -gt 0 ]]; then
	if [[ " ${ort_missing[*]} " == *" libonnxruntime.so "* ]]; then
		hint="without the C library libonnxruntime.so the edge cannot use the build (an onnxruntime-gpu Python wheel holds only the provider libraries); if only libonnxruntime.so.1.* is there, add the symlink libonnxruntime.so to it"
	else
		hint="this looks like a CPU-only build, such as onnxruntime-linux-aarch64-*.tgz from the GitHub releases"
	fi
	die "${ort_dir} lacks ${ort_missing[*]}: ${hint}; get the JetPack 6 GPU build (see --help)"
fi

for b in edge fwbridge; do
	[[ -f "${bin_dir}/${b}" && -x "${bin_dir}/${b}" ]] ||
		die "${bin_dir}/${b} is missing or not executable: build with 'CGO_ENABLED=1 go build -o bin/ ./edge/cmd/edge ./firmware-bridge/cmd/fwbridge' on the Jetson (or cross-compile for linux/arm64), or pass --bin DIR"
done
for unit in "${UNITS[@]}"; do
	[[ -f "${deploy_dir}/systemd/${unit}" ]] ||
		die "${deploy_dir}/systemd/${unit} is missing: run this script from a mocoedge checkout"
done

if [[ ${dry_run} -eq 0 && ${system} -eq 1 && "$(id -u)" -ne 0 ]]; then
	die "run as root (sudo deploy/jetson/${prog} ...), or try --dry-run"
fi
if [[ ${system} -eq 1 && ! -f /etc/nv_tegra_release ]]; then
	warn "/etc/nv_tegra_release not found: this is not a Jetson with JetPack, so the TensorRT and CUDA providers will not load and the edge will run on the CPU"
fi

# --- Actions -------------------------------------------------------------

changed=0 # a file under the install root changed (restart with --now)

# act CMD...: run CMD, or print it with --dry-run.
act() {
	if [[ ${dry_run} -eq 1 ]]; then
		printf '+'
		printf ' %q' "$@"
		printf '\n'
		return 0
	fi
	"$@"
}

# own OWNER MODE PATH: give PATH its mode, and its owner on a system install.
own() {
	local owner="$1" mode="$2" path="$3"
	if [[ ! -e "${path}" ]]; then # only with --dry-run
		act chmod "${mode}" "${path}"
		[[ ${system} -eq 0 ]] || act chown "${owner}" "${path}"
		return 0
	fi
	[[ "$(stat -c '%a' "${path}")" == "${mode#0}" ]] || act chmod "${mode}" "${path}"
	if [[ ${system} -eq 1 && "$(stat -c '%U:%G' "${path}")" != "${owner}" ]]; then
		act chown "${owner}" "${path}"
	fi
}

# ensure_dir OWNER MODE DIR
ensure_dir() {
	if [[ ! -d "$3" ]]; then
		act mkdir -p "$3"
		changed=1
	fi
	own "$1" "$2" "$3"
}

# install_file MODE SRC DEST: copy SRC when DEST is missing or different.
install_file() {
	if [[ -f "$3" ]] && cmp -s "$2" "$3"; then
		return 0
	fi
	act install -m "$1" "$2" "$3"
	changed=1
}

# write_new OWNER MODE DEST: write stdin to DEST unless DEST exists.
write_new() {
	local owner="$1" mode="$2" path="$3" tmp
	if [[ -e "${path}" ]]; then
		cat >/dev/null
		return 0
	fi
	if [[ ${dry_run} -eq 1 ]]; then
		printf '+ write %q (mode %s, owner %s):\n' "${path}" "${mode}" "${owner}"
		sed 's/^/|   /'
		return 0
	fi
	tmp="$(mktemp "${path}.XXXXXX")"
	cat >"${tmp}"
	chmod "${mode}" "${tmp}"
	[[ ${system} -eq 0 ]] || chown "${owner}" "${tmp}"
	mv -f "${tmp}" "${path}"
	changed=1
}

# The service user and its groups, first: later steps chown to it.
if [[ ${system} -eq 1 ]]; then
	if ! getent passwd "${SERVICE_USER}" >/dev/null; then
		act useradd --system --user-group --home-dir "${STATE_DIR}" --no-create-home \
			--shell /usr/sbin/nologin --comment "mocoedge edge daemon" "${SERVICE_USER}"
	fi
	member_of=" $(id -nG "${SERVICE_USER}" 2>/dev/null || true) "
	for g in "${OPTIONAL_GROUPS[@]}"; do
		if getent group "${g}" >/dev/null && [[ "${member_of}" != *" ${g} "* ]]; then
			act usermod --append --groups "${g}" "${SERVICE_USER}"
		fi
	done
fi

# Binaries.
ensure_dir root:root 0755 "${d_bin}"
for b in edge fwbridge; do
	install_file 0755 "${bin_dir}/${b}" "${d_bin}/${b}"
done

# ONNX Runtime: every libonnxruntime*.so* of the build, symlinks kept.
ensure_dir root:root 0755 "${d_ort}"
shopt -s nullglob
for src in "${ort_dir}"/libonnxruntime*.so*; do
	name="${src##*/}"
	if [[ -L "${src}" ]]; then
		target="$(readlink "${src}")"
		if [[ ! -L "${d_ort}/${name}" || "$(readlink "${d_ort}/${name}")" != "${target}" ]]; then
			act ln -sfn "${target}" "${d_ort}/${name}"
			changed=1
		fi
	else
		install_file 0644 "${src}" "${d_ort}/${name}"
	fi
done
shopt -u nullglob
if [[ ${dry_run} -eq 0 && ${system} -eq 1 ]] && command -v ldd >/dev/null 2>&1; then
	unresolved="$(ldd "${d_ort}/libonnxruntime_providers_tensorrt.so" 2>/dev/null |
		awk '/not found/ {printf "%s ", $1}' || true)"
	[[ -z "${unresolved}" ]] ||
		warn "the TensorRT provider cannot find ${unresolved}: install JetPack's CUDA, cuDNN and TensorRT (apt-get install nvidia-jetpack) or fix ld.so.conf; until then the edge falls back to the next provider"
fi

# Folders: /etc/mocoedge is readable by the service's group only (edge.env
# holds secrets); the state folder belongs to the service user.
ensure_dir "root:${SERVICE_USER}" 0750 "${d_etc}"
ensure_dir "${SERVICE_USER}:${SERVICE_USER}" 0750 "${d_state}"
ensure_dir "${SERVICE_USER}:${SERVICE_USER}" 0750 "${d_state}/models"

# edge.yaml, only when absent.
yaml="${d_etc}/edge.yaml"
ort_library="${ORT_PREFIX}/libonnxruntime.so"
if [[ ! -e "${yaml}" ]]; then
	if [[ ${dry_run} -eq 1 ]]; then
		printf '+ write %q (mode 0640, owner root:%s): the output of %q config --print-default with data_dir: %s and model.ort_library: %s\n' \
			"${yaml}" "${SERVICE_USER}" "${bin_dir}/edge" "${STATE_DIR}" "${ort_library}"
	else
		defaults="$("${bin_dir}/edge" config --print-default)" ||
			die "'${bin_dir}/edge config --print-default' failed: is ${bin_dir}/edge built for this machine ($(uname -m))?"
		config="$(printf '%s\n' "${defaults}" | sed \
			-e "s|^data_dir:.*|data_dir: ${STATE_DIR}|" \
			-e "s|^  ort_library:.*|  ort_library: ${ort_library}|")"
		if ! grep -qx "data_dir: ${STATE_DIR}" <<<"${config}" ||
			! grep -qx "  ort_library: ${ort_library}" <<<"${config}"; then
			die "could not set data_dir and model.ort_library in the output of 'edge config --print-default' (has its format changed?)"
		fi
		printf '%s\n' "${config}" | write_new "root:${SERVICE_USER}" 0640 "${yaml}"
	fi
elif ! grep -q "^ *ort_library: *\"\{0,1\}${ort_library}" "${yaml}"; then
	warn "${yaml} exists and was left as it is, but its model.ort_library is not ${ort_library}"
fi

# edge.env template, only when absent.
write_new "root:${SERVICE_USER}" 0640 "${d_etc}/edge.env" <<'ENV'
# Environment of mocoedge-edge.service: MOCOEDGE_* variables override
# /etc/mocoedge/edge.yaml (docs/config.md lists them all). Keep secrets
# here rather than in edge.yaml: only root and mocoedge can read this file.
#MOCOEDGE_MQTT_BROKER=mqtts://broker.example.net:8883
#MOCOEDGE_MQTT_USERNAME=this-device-id
#MOCOEDGE_MQTT_PASSWORD=
#MOCOEDGE_MQTT_TLS_CA=/etc/mocoedge/ca.crt
ENV

# systemd units.
units_changed=0
ensure_dir root:root 0755 "${d_units}"
for unit in "${UNITS[@]}"; do
	if [[ ! -f "${d_units}/${unit}" ]] || ! cmp -s "${deploy_dir}/systemd/${unit}" "${d_units}/${unit}"; then
		units_changed=1
		install_file 0644 "${deploy_dir}/systemd/${unit}" "${d_units}/${unit}"
	fi
done

systemctl_root=() # systemctl --root=DIR works on the unit files alone
[[ ${system} -eq 1 ]] || systemctl_root=(--root="${root}")
if [[ ${system} -eq 1 && ${units_changed} -eq 1 ]]; then
	act systemctl daemon-reload
fi
enable=(mocoedge.target mocoedge-edge.service)
[[ ${enable_fwbridge} -eq 0 ]] || enable+=(mocoedge-fwbridge.service)
if [[ ${dry_run} -eq 0 ]] && ! command -v systemctl >/dev/null 2>&1; then
	warn "systemctl not found: enable ${enable[*]} yourself"
else
	for unit in "${enable[@]}"; do
		state=""
		if [[ -e "${d_units}/${unit}" ]]; then
			state="$(systemctl "${systemctl_root[@]}" is-enabled "${unit}" 2>/dev/null || true)"
		fi
		[[ "${state}" == "enabled" ]] || act systemctl "${systemctl_root[@]}" enable --quiet "${unit}"
	done
fi

if [[ ${start_now} -eq 1 && ${system} -eq 1 ]]; then
	for unit in "${enable[@]}"; do
		[[ "${unit}" == *.service ]] || continue
		if [[ "$(systemctl is-active "${unit}" 2>/dev/null || true)" != "active" ]]; then
			act systemctl start "${unit}"
		elif [[ ${changed} -eq 1 ]]; then
			act systemctl restart "${unit}"
		fi
	done
elif [[ ${changed} -eq 1 && ${dry_run} -eq 0 && ${system} -eq 1 ]]; then
	printf '%s: installed; set model.path in %s/edge.yaml (models go in %s/models), then: systemctl restart mocoedge-edge\n' \
		"${prog}" "${ETC_DIR}" "${STATE_DIR}" >&2
fi
