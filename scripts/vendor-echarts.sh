#!/usr/bin/env bash
# Vendors Apache ECharts from npm into public/vendor/echarts (never a CDN): the version charming
# generates options for (charming 0.6 → ECharts 5.5.1). Run it to update; commit the result.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION="${1:-5.5.1}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
(cd "${work}" && npm pack "echarts@${VERSION}" --silent >/dev/null && tar -xzf "echarts-${VERSION}.tgz")
mkdir -p public/vendor/echarts
cp "${work}/package/dist/echarts.min.js" public/vendor/echarts/echarts.min.js
cp "${work}/package/LICENSE" public/vendor/echarts/LICENSE
cp "${work}/package/NOTICE" public/vendor/echarts/NOTICE 2>/dev/null || true
sha256sum public/vendor/echarts/echarts.min.js
