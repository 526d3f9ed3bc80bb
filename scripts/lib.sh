# shellcheck shell=bash
# Functions shared by the scripts of this folder and by .ci/run. Source it;
# it only defines functions and sets no options.

# Debian 12 packages that building and running qcgate in front of Orthanc
# need:
#   orthanc, orthanc-dicomweb   the archive the gateway sits in front of
#   libopenjp2-7-dev, pkg-config, gcc, libc6-dev
#                               the JPEG 2000 decoder (OpenJPEG, through cgo)
#   ca-certificates             go downloads modules over HTTPS
QCGATE_BASE_PACKAGES=(orthanc orthanc-dicomweb libopenjp2-7-dev pkg-config gcc libc6-dev
	ca-certificates)

# The tests also need:
#   dcmtk                       storescu, for the tests of the Orthanc SEG filter
#   postgresql                  a throwaway server for the PostgreSQL store tests
#   dicom3tools                 dciodvfy, which checks the rejection notes qc writes
#   chromium                    the browser the OHIF and dashboard tests drive
QCGATE_TEST_PACKAGES=("${QCGATE_BASE_PACKAGES[@]}" dcmtk postgresql dicom3tools chromium)

# The demo also sends requests with curl and reads answers with jq.
QCGATE_DEMO_PACKAGES=("${QCGATE_BASE_PACKAGES[@]}" curl jq)

# apt-get waits up to 10 minutes for another apt or dpkg (for example a
# fresh machine's unattended upgrades) instead of failing at once.
QCGATE_APT_OPTIONS=(-o DPkg::Lock::Timeout=600)

# qcgate_apt_update updates apt's package lists.
qcgate_apt_update() {
	qcgate_as_root env DEBIAN_FRONTEND=noninteractive apt-get "${QCGATE_APT_OPTIONS[@]}" update
}

# qcgate_as_root runs a command as root: directly when this is root, else
# through sudo.
qcgate_as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "error: '$*' needs root; run as root or install sudo" >&2
		return 1
	fi
}

# qcgate_apt_install installs packages with apt-get, without recommends and
# without starting the services they ship (the Debian orthanc package
# would start a system-wide Orthanc; the tests and the demo start their
# own on a free port). An existing /usr/sbin/policy-rc.d is left as it is.
qcgate_apt_install() {
	local guard=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		guard=1
		printf '#!/bin/sh\nexit 101\n' | qcgate_as_root tee /usr/sbin/policy-rc.d >/dev/null
		qcgate_as_root chmod 755 /usr/sbin/policy-rc.d
	fi
	local rc=0
	qcgate_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get "${QCGATE_APT_OPTIONS[@]}" install -y --no-install-recommends "$@" || rc=$?
	if [ -n "$guard" ]; then
		qcgate_as_root rm -f /usr/sbin/policy-rc.d
	fi
	return "$rc"
}

# qcgate_install_missing installs those of the given packages that are not
# installed yet, updating apt's lists first; it does nothing when all are.
qcgate_install_missing() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	echo "installing ${missing[*]}" >&2
	qcgate_apt_update
	qcgate_apt_install "${missing[@]}"
}

# qcgate_require_npm installs Debian's npm when there is no npm at all;
# scripts/fetch-ohif.sh takes the OHIF viewer from the npm registry with it.
qcgate_require_npm() {
	if ! command -v npm >/dev/null 2>&1; then
		qcgate_install_missing npm
	fi
}

# qcgate_require_go puts Go on PATH (/usr/local/go/bin when go is not found)
# and checks that it can build this module (go.mod names the version).
qcgate_require_go() {
	if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
		export PATH="/usr/local/go/bin:$PATH"
	fi
	if ! command -v go >/dev/null 2>&1; then
		echo "error: Go is not installed: install Go 1.26 from https://go.dev/dl/ into /usr/local/go" >&2
		return 1
	fi
}
