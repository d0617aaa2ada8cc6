#!/usr/bin/env bash
# Re-fetches the pinned ECharts build from the npm registry into
# dashboards/static/js/echarts.min.js and verifies its checksum.
#
#   dashboards/update-echarts.sh          # fetch the pinned version, verify
#   dashboards/update-echarts.sh --check  # only verify the committed file
#
# To move to another version: change VERSION and SHA256 below (and in
# static/js/ECHARTS.md) to a release go-echarts supports, run the script,
# review the page in a browser, commit the three files together.
set -euo pipefail

PACKAGE=echarts
VERSION=5.4.3
SHA256=1156429a16a38cb8604dcc6518c19406d4226142d908f8edd2e3531443c54d19

here=$(cd "$(dirname "$0")" && pwd)
dest="$here/static/js/echarts.min.js"

sum() { sha256sum "$1" | cut -d' ' -f1; }

if [ "${1:-}" = "--check" ]; then
	got=$(sum "$dest")
	if [ "$got" != "$SHA256" ]; then
		echo "update-echarts: $dest has sha256 $got, want $SHA256" >&2
		exit 1
	fi
	echo "update-echarts: $dest is $PACKAGE@$VERSION (sha256 ok)"
	exit 0
fi

command -v npm >/dev/null || { echo "update-echarts: npm is required" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar -xzf "$tmp/$PACKAGE-$VERSION.tgz" -C "$tmp" package/dist/echarts.min.js
got=$(sum "$tmp/package/dist/echarts.min.js")
if [ "$got" != "$SHA256" ]; then
	echo "update-echarts: $PACKAGE@$VERSION dist/echarts.min.js has sha256 $got, want $SHA256; not replacing $dest" >&2
	exit 1
fi
cp "$tmp/package/dist/echarts.min.js" "$dest"
echo "update-echarts: wrote $dest ($PACKAGE@$VERSION, sha256 ok)"
