#!/usr/bin/env bash
# Runs qcgate's tests, the end-to-end tests against a real Orthanc and the
# browser tests of the OHIF viewer included. Installs the Debian packages
# they need when some are missing (as root or through sudo) and fetches the
# OHIF viewer (scripts/fetch-ohif.sh). Extra arguments go to "go test", for
# example -run or -v.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

qcgate_install_missing "${QCGATE_TEST_PACKAGES[@]}"
qcgate_require_go
qcgate_require_npm
./scripts/fetch-ohif.sh

go test -count=1 -timeout 15m "$@" ./...
