#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library (libonnxruntime.so.1) for linux x64 and
# arm64 out of the npm package onnxruntime-node, into the git-ignored folder
# third_party/onnxruntime/linux-<arch>/ at the repository root.
#
# Run with --help for usage. Silent and exit 0 when the libraries are already
# present with the pinned hashes.
set -euo pipefail

readonly ORT_NPM_PACKAGE="onnxruntime-node"
readonly ORT_VERSION="1.24.1"
# sha256 of package/bin/napi-v6/linux/<arch>/libonnxruntime.so.1 in
# onnxruntime-node-1.24.1.tgz. Change ORT_VERSION and these together.
readonly SHA256_X64="53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4"
readonly SHA256_ARM64="7954e8bdedb497f830c6a679e818d98399b7f4d81ade1126c3e0be74d28111ab"
readonly ARCHES=(x64 arm64)
readonly LIB_NAME="libonnxruntime.so.1"

prog="$(basename "${BASH_SOURCE[0]}")"
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"
dest_root="${repo_root}/third_party/onnxruntime"

usage() {
	cat <<EOF
Usage: deploy/${prog} [--help]

Puts the ONNX Runtime ${ORT_VERSION} shared library for Linux x64 and arm64 at
  ${dest_root}/linux-x64/${LIB_NAME}
  ${dest_root}/linux-arm64/${LIB_NAME}
taken out of the npm package ${ORT_NPM_PACKAGE}@${ORT_VERSION} with 'npm pack'
(not 'npm install': its postinstall step needs network access beyond the
registry). Both files are checked against pinned sha256 hashes.

Prints nothing and exits 0 when both libraries are already present with the
right hashes. A library with a wrong hash is replaced. Needs npm, tar and
sha256sum; deploy/install-deps.sh installs npm when it is missing.

Go code finds the library there (internal/onnxrt); to use another build of
ONNX Runtime set MOCOEDGE_ORT_LIB=/path/to/libonnxruntime.so instead.
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

want_sha() {
	case "$1" in
	x64) printf '%s' "${SHA256_X64}" ;;
	arm64) printf '%s' "${SHA256_ARM64}" ;;
	*) die "internal: unknown arch $1" ;;
	esac
}

file_sha() {
	sha256sum "$1" | cut -d' ' -f1
}

command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found: apt-get install coreutils"

# Which architectures need fetching?
missing=()
for arch in "${ARCHES[@]}"; do
	lib="${dest_root}/linux-${arch}/${LIB_NAME}"
	if [[ -f "${lib}" ]] && [[ "$(file_sha "${lib}")" == "$(want_sha "${arch}")" ]]; then
		continue
	fi
	if [[ -e "${lib}" ]]; then
		printf '%s: %s has the wrong sha256, replacing it\n' "${prog}" "${lib}" >&2
	fi
	missing+=("${arch}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi

command -v npm >/dev/null 2>&1 ||
	die "npm not found: run deploy/install-deps.sh as root (or apt-get install npm), then rerun this script"
command -v tar >/dev/null 2>&1 || die "tar not found: apt-get install tar"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fetch-onnxruntime.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

start=${SECONDS}
printf '%s: fetching %s@%s with npm pack (about 85 MB) for linux %s\n' \
	"${prog}" "${ORT_NPM_PACKAGE}" "${ORT_VERSION}" "${missing[*]}" >&2

if ! (cd "${tmp}" && npm pack --loglevel=error "${ORT_NPM_PACKAGE}@${ORT_VERSION}") >"${tmp}/npm.log" 2>&1; then
	# The most telling line of npm's multi-line error report.
	reason="$(grep -m 1 -E 'reason:|E404|404 Not Found|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ENOSPC|EACCES' "${tmp}/npm.log" ||
		grep -m 1 -E '^npm (error|ERR!)' "${tmp}/npm.log" || tail -n 1 "${tmp}/npm.log" || true)"
	die "'npm pack ${ORT_NPM_PACKAGE}@${ORT_VERSION}' failed (is the npm registry reachable? check 'npm config get registry' and proxy settings): ${reason:-no output}"
fi
tgz="${tmp}/${ORT_NPM_PACKAGE}-${ORT_VERSION}.tgz"
[[ -f "${tgz}" ]] || die "npm pack did not produce ${tgz##*/}; npm said: $(tr '\n' ' ' <"${tmp}/npm.log")"

members=()
for arch in "${missing[@]}"; do
	members+=("package/bin/napi-v6/linux/${arch}/${LIB_NAME}")
done
tar -xzf "${tgz}" -C "${tmp}" "${members[@]}" 2>"${tmp}/tar.log" ||
	die "could not extract ${members[*]} from ${tgz##*/}: $(head -n 1 "${tmp}/tar.log")"

for arch in "${missing[@]}"; do
	src="${tmp}/package/bin/napi-v6/linux/${arch}/${LIB_NAME}"
	got="$(file_sha "${src}")"
	want="$(want_sha "${arch}")"
	if [[ "${got}" != "${want}" ]]; then
		die "sha256 of linux/${arch}/${LIB_NAME} in ${ORT_NPM_PACKAGE}@${ORT_VERSION} is ${got}, expected ${want}: the download is corrupt or the package changed; run 'npm cache clean --force' and retry, and if it persists check the release and update the pinned hashes in deploy/${prog}"
	fi
	dir="${dest_root}/linux-${arch}"
	mkdir -p "${dir}"
	# Copy then rename, so a reader never sees a half-written library.
	cp "${src}" "${dir}/.${LIB_NAME}.tmp.$$"
	chmod 0644 "${dir}/.${LIB_NAME}.tmp.$$"
	mv -f "${dir}/.${LIB_NAME}.tmp.$$" "${dir}/${LIB_NAME}"
done

printf '%s: installed ONNX Runtime %s for linux %s under %s (%ds)\n' \
	"${prog}" "${ORT_VERSION}" "${missing[*]}" "${dest_root}" "$((SECONDS - start))" >&2
