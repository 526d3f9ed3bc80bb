#!/usr/bin/env bash
# Fetches the prebuilt OHIF viewer that "qcgate serve --ohif-dir" serves:
# the dist/ folder of the npm package @ohif/app at a pinned version, into
# third_party/ohif/dist (ignored by git: never commit it). Needs npm and
# tar. Run it again to refetch; an existing copy of the same version is
# kept.
set -euo pipefail

cd "$(dirname "$0")/.."

# OHIF_VERSION is the pinned @ohif/app version; the browser tests and the
# generated app-config.js are written for it.
OHIF_VERSION=${OHIF_VERSION:-3.13.2}
dest=third_party/ohif

if [[ -f "$dest/VERSION" && "$(cat "$dest/VERSION")" == "$OHIF_VERSION" &&
	-f "$dest/dist/index.html" ]]; then
	echo "OHIF $OHIF_VERSION already in $dest/dist"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@ohif/app@$OHIF_VERSION" >/dev/null)
tarball=$(ls "$tmp"/ohif-app-*.tgz)
tar -xzf "$tarball" -C "$tmp"
if [[ ! -f "$tmp/package/dist/index.html" ]]; then
	echo "fetch-ohif: the package has no dist/index.html" >&2
	exit 1
fi

rm -rf "$dest"
mkdir -p "$dest"
mv "$tmp/package/dist" "$dest/dist"
echo "$OHIF_VERSION" >"$dest/VERSION"
echo "OHIF $OHIF_VERSION in $dest/dist ($(du -sh "$dest/dist" | cut -f1))"
