#!/usr/bin/env bash
# Measures the gateway against direct Orthanc in one run (see README,
# "Speed and memory"): 100 sequential STOW-RS of a 39 KB CT image, one
# STOW-RS of 200 CT images, and one streamed STOW-RS of about 500 MB of CT
# images for the gateway's peak memory. Installs the Debian packages it
# needs when some are missing. Takes a few minutes and about 1.5 GB of
# temporary disk; QCGATE_BENCH_LARGE_MB=N makes the large request N MB.
# Extra arguments go to "go test", for example -bench Sequential.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

qcgate_install_missing "${QCGATE_TEST_PACKAGES[@]}"
qcgate_require_go

go test ./integration -run '^$' -bench . -benchtime 1x -timeout 30m "$@"
