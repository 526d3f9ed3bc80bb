#!/usr/bin/env bash
# Runs qcgate's tests, the end-to-end tests against a real Orthanc included.
# Installs the Debian packages they need when some are missing (as root or
# through sudo). Extra arguments go to "go test", for example -run or -v.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

qcgate_install_missing "${QCGATE_TEST_PACKAGES[@]}"
qcgate_require_go

go test -count=1 -timeout 15m "$@" ./...
