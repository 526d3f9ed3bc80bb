#!/usr/bin/env bash
# The main job of qcgate, on one machine: installs what is missing (Debian
# packages, as root or through sudo), builds qcgate, starts an Orthanc with
# a temporary configuration and random credentials on a free port, starts
# "qcgate serve" in front of it, sends the real SEG cases of
# qc/testdata/real through the gateway as STOW-RS (each case's source
# images first, then its SEG) and prints each SEG's decision. Then it keeps
# both running until Ctrl-C and stops them.
#
# Environment:
#   DEMO_EXIT=1     stop after sending, instead of waiting for Ctrl-C
#   DEMO_CASES=...  space-separated case folder names (default: all)
#   DEMO_PORT=N     the gateway's port (default: a free one)
#   DEMO_KEEP=1     keep the temporary folder (logs, reports database)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

data=qc/testdata/real
orthanc_bin=/usr/sbin/Orthanc
plugin=/usr/share/orthanc/plugins/libOrthancDicomWeb.so

qcgate_install_missing "${QCGATE_DEMO_PACKAGES[@]}"
qcgate_require_go

work=$(mktemp -d -t qcgate-demo.XXXXXX)
orthanc_pid=
gateway_pid=

# stop ends the processes this script started, by their ids, and removes
# the temporary folder.
stop() {
	local pid
	for pid in $gateway_pid $orthanc_pid; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	for pid in $gateway_pid $orthanc_pid; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${DEMO_KEEP:-}" = 1 ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap stop EXIT
trap 'exit 130' INT TERM

# free_port prints a TCP port nothing listens on at the moment.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "error: no free port found" >&2
	return 1
}

# random_hex prints n random bytes in hexadecimal.
random_hex() {
	head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# wait_ready polls a URL until it answers 2xx; $1 is the pid to watch, the
# rest are curl arguments.
wait_ready() {
	local pid=$1
	shift
	for _ in $(seq 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		if curl -fsS -o /dev/null "$@" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

echo "building qcgate"
go build -buildvcs=false -o "$work/qcgate" ./cmd/qcgate

# Orthanc, reachable only with random credentials. Orthanc 1.10 listens on
# all addresses; everything here talks to it on 127.0.0.1.
orthanc_user="demo-$(random_hex 4)"
orthanc_password=$(random_hex 16)
printf '%s\n' "$orthanc_password" >"$work/orthanc-password"
chmod 600 "$work/orthanc-password"
for attempt in 1 2 3; do
	orthanc_port=$(free_port)
	cat >"$work/orthanc.json" <<JSON
{
  "Name": "qcgate-demo",
  "HttpPort": $orthanc_port,
  "DicomServerEnabled": false,
  "StorageDirectory": "$work/orthanc-storage",
  "IndexDirectory": "$work/orthanc-storage",
  "Plugins": ["$plugin"],
  "RemoteAccessAllowed": true,
  "AuthenticationEnabled": true,
  "RegisteredUsers": {"$orthanc_user": "$orthanc_password"},
  "UserMetadata": {"QCDecision": 1024, "QCReport": 1025, "QCReview": 1026},
  "DicomWeb": {"Enable": true, "Root": "/dicom-web/", "EnableWado": true, "WadoRoot": "/wado"}
}
JSON
	chmod 600 "$work/orthanc.json"
	"$orthanc_bin" "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
	orthanc_pid=$!
	if wait_ready "$orthanc_pid" -u "$orthanc_user:$orthanc_password" \
		"http://127.0.0.1:$orthanc_port/system"; then
		break
	fi
	kill -TERM "$orthanc_pid" 2>/dev/null || true
	wait "$orthanc_pid" 2>/dev/null || true
	orthanc_pid=
	if [ "$attempt" = 3 ]; then
		echo "error: Orthanc did not start; its log:" >&2
		tail -n 30 "$work/orthanc.log" >&2
		exit 1
	fi
done
echo "Orthanc $(curl -fsS -u "$orthanc_user:$orthanc_password" \
	"http://127.0.0.1:$orthanc_port/system" | jq -r .Version) on port $orthanc_port"

# The gateway in front of it, with authentication on: a random HS256
# secret in a file, and tokens minted with it by "qcgate token".
gateway_port=${DEMO_PORT:-$(free_port)}
gw="http://127.0.0.1:$gateway_port"
random_hex 32 >"$work/jwt-secret"
chmod 600 "$work/jwt-secret"
QCGATE_LISTEN="127.0.0.1:$gateway_port" \
	QCGATE_AUTH_HS256_SECRET_FILE="$work/jwt-secret" \
	QCGATE_UPSTREAM="http://127.0.0.1:$orthanc_port/dicom-web" \
	QCGATE_UPSTREAM_USER="$orthanc_user" \
	QCGATE_UPSTREAM_PASSWORD_FILE="$work/orthanc-password" \
	QCGATE_STORE="$work/reports.db" \
	"$work/qcgate" serve >"$work/qcgate.log" 2>&1 &
gateway_pid=$!
if ! wait_ready "$gateway_pid" "$gw/healthz"; then
	echo "error: qcgate serve did not start; its log:" >&2
	tail -n 30 "$work/qcgate.log" >&2
	exit 1
fi
echo "qcgate on $gw"
echo

# An annotator's token to upload, a viewer's to read reports.
annotator_token=$("$work/qcgate" token --secret-file "$work/jwt-secret" \
	--sub demo-annotator --roles annotator --ttl 12h)
viewer_token=$("$work/qcgate" token --secret-file "$work/jwt-secret" \
	--sub demo-viewer --roles viewer --ttl 12h)

# stow sends files as one STOW-RS request (PS3.18 10.5) through the
# gateway; the answer goes to $work/answer.json and its headers to
# $work/answer.headers. It prints the HTTP status.
stow() {
	local boundary f
	boundary="demo-$(random_hex 8)"
	{
		for f in "$@"; do
			printf -- '--%s\r\nContent-Type: application/dicom\r\n\r\n' "$boundary"
			cat "$f"
			printf '\r\n'
		done
		printf -- '--%s--\r\n' "$boundary"
	} >"$work/body.bin"
	curl -sS -o "$work/answer.json" -D "$work/answer.headers" -w '%{http_code}' \
		-H "Authorization: Bearer $annotator_token" \
		-H "Content-Type: multipart/related; type=\"application/dicom\"; boundary=$boundary" \
		-H 'Accept: application/dicom+json' \
		--data-binary @"$work/body.bin" "$gw/dicom-web/studies"
}

# answer_uids prints the SOP Instance UIDs an answer lists as stored or
# failed (PS3.18 10.5.3: Referenced SOP Sequence, Failed SOP Sequence).
answer_uids() {
	jq -r '[.["00081199"].Value[]?, .["00081198"].Value[]?]
		| .[] | .["00081155"].Value[0]' "$work/answer.json" 2>/dev/null || true
}

# print_report prints the decision and the first error and warning findings
# of the report of a SEG.
print_report() {
	local uid=$1 code
	code=$(curl -sS -o "$work/report.json" -w '%{http_code}' \
		-H "Authorization: Bearer $viewer_token" "$gw/qc/v1/reports/$uid")
	if [ "$code" != 200 ]; then
		echo "    report: HTTP $code"
		return
	fi
	jq -r '"    decision: \(.decision)  (\(.segmentation_type), "
		+ "\(.segments | length) segment(s), "
		+ "\([.segments[].voxels] | add // 0) voxels)",
		([.findings[] | select(.severity != "info")] as $f
			| ($f[:5][] | "      \(.severity) \(.rule): \(.message)"),
			(if ($f | length) > 5 then "      ... \(($f | length) - 5) more" else empty end))
		' "$work/report.json"
}

cases=${DEMO_CASES:-$(cd "$data" && ls -d -- */ | tr -d /)}
for c in $cases; do
	dir="$data/$c"
	echo "$c"
	mapfile -t sources < <(find "$dir/source" -name '*.dcm' 2>/dev/null | sort)
	if [ "${#sources[@]}" -gt 0 ]; then
		echo "  sources: ${#sources[@]} file(s) -> HTTP $(stow "${sources[@]}")"
	else
		echo "  sources: none in this case"
	fi
	for seg in "$dir"/*.dcm; do
		code=$(stow "$seg")
		echo "  $(basename "$seg") -> HTTP $code"
		grep -i '^Warning:' "$work/answer.headers" | sed 's/^/    /' | tr -d '\r' || true
		for uid in $(answer_uids); do
			print_report "$uid"
		done
	done
done

# A token to look around with: the dashboard's sign-in form takes it, curl
# sends it as a bearer token. It is valid for this demo's run only (its
# secret is random and removed at exit).
look_token=$("$work/qcgate" token --secret-file "$work/jwt-secret" \
	--sub demo-user --roles reviewer,auditor --ttl 12h)

cat <<EOF

Look at:
  QC dashboard (sign in with the token)  $gw/qc/
  DICOMweb (QIDO-RS, WADO-RS, STOW-RS)   $gw/dicom-web/studies
  WADO-URI                               $gw/wado
  QC reports                             $gw/qc/v1/reports
  one report                             $gw/qc/v1/reports/{SOPInstanceUID}
  metrics                                $gw/metrics
  health                                 $gw/healthz  $gw/readyz
  logs                                   $work/qcgate.log  $work/orthanc.log
                                         (removed at exit unless DEMO_KEEP=1)
Every request but /healthz and /readyz needs a bearer token. A reviewer's and
auditor's token for this run:
  TOKEN=$look_token
  curl -H "Authorization: Bearer \$TOKEN" $gw/qc/v1/reports
More tokens: $work/qcgate token --secret-file $work/jwt-secret --sub NAME --roles viewer
EOF

if [ "${DEMO_EXIT:-}" = 1 ]; then
	exit 0
fi
echo
echo "Running; press Ctrl-C to stop."
wait "$gateway_pid"
