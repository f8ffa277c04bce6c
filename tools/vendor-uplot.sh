#!/bin/sh
# Refresh the vendored uPlot (web/vendor/uplot/) from the npm registry.
#
#   tools/vendor-uplot.sh [VERSION]
#
# Downloads the published package with `npm pack` (no install, no scripts run),
# checks its integrity against the registry's sha512, and copies the three
# files the dashboard and the replay report use, with the licence. The files
# are compiled into the binary (cmake/embed.cmake): nothing is fetched at view
# time. Review the diff and re-run the browser tests before committing.
set -eu
version=${1:-1.6.32}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/web/vendor/uplot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "uplot@$version" >/dev/null
tgz=uplot-$version.tgz
want=$(npm view "uplot@$version" dist.integrity)
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$want" != "$got" ]; then
    echo "vendor-uplot: integrity mismatch for $tgz: registry $want, got $got" >&2
    exit 1
fi
tar xzf "$tgz"
mkdir -p "$dest"
cp package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE "$dest/"
printf 'uplot %s\n%s\n' "$version" "$want" >"$dest/VERSION"
echo "vendor-uplot: web/vendor/uplot now holds uplot $version"
