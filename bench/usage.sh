#!/usr/bin/env bash
# Usage reports on demo data at scale (part of make bench; alone: make bench-usage):
#  1. keyport seed-demo into target/bench-demo (1,000 developers, 100,000 keys, 10,000,000
#     events over 30 days; reused while it is less than 20 hours old and made by the same
#     migrations, since seeding takes minutes): seconds and events/s;
#  2. a release server on that database; bench/usage_reports.py times the usage page
#     (GET /usage?range=30d, rendered on the server) and the REST report
#     (GET /api/v1/analytics/usage, 30 days by day), as the demo developer (own keys) and the
#     demo admin (all keys), BENCH_USAGE_ROUNDS sequential requests each after a warm-up,
#     BENCH_USAGE_RUNS runs; medians of the runs' p50 against the targets (≤ 50 ms).
# BENCH_DEMO_ARGS passes other amounts to seed-demo (then the figures are not the issue's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ROUNDS="${BENCH_USAGE_ROUNDS:-25}"
RUNS="${BENCH_USAGE_RUNS:-3}"
DEMO_ARGS="${BENCH_DEMO_ARGS:-}"
dir="target/bench-demo"
stamp="${dir}/stamp"
want_stamp="$(cat migrations/sqlite/*.sql | sha256sum | cut -c1-16) ${DEMO_ARGS}"

[[ -x target/release/keyport ]] || die "build the server first (make build)"
fresh_seed=""
if [[ -f ${stamp} && "$(head -n1 "${stamp}")" == "${want_stamp}" && -n "$(find "${stamp}" -mmin -1200)" ]]; then
  echo "==> demo data: reusing ${dir} ($(sed -n 2p "${stamp}"))"
else
  echo "==> demo data: keyport seed-demo ${DEMO_ARGS} into ${dir} (takes minutes)"
  rm -rf -- "${dir}"
  mkdir -p "${dir}"
  # shellcheck disable=SC2086  # the amounts are words
  KEYPORT_DATA_DIR="${dir}" RUST_LOG=warn ./target/release/keyport seed-demo ${DEMO_ARGS} | tee "${dir}/seed.log"
  fresh_seed="$(grep '^done' "${dir}/seed.log")"
  printf '%s\n%s\n' "${want_stamp}" "${fresh_seed}" >"${stamp}"
fi

port="$(free_port)"
work="$(mktemp -d /tmp/keyport-bench-usage.XXXXXX)"
server_pid=""
cleanup() {
  [[ -n ${server_pid} ]] && kill "${server_pid}" 2>/dev/null && wait "${server_pid}" 2>/dev/null
  rm -rf -- "${work}"
}
trap cleanup EXIT
KEYPORT_ADDR="127.0.0.1:${port}" KEYPORT_DATA_DIR="${dir}" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  ./target/release/keyport >"${work}/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "http://127.0.0.1:${port}/readyz" >/dev/null || {
  cat "${work}/server.log" >&2
  die "the server did not become ready"
}

echo "==> usage reports, 30 days: ${RUNS} runs of ${ROUNDS} requests per series"
for run in $(seq 1 "${RUNS}"); do
  python3 bench/usage_reports.py "http://127.0.0.1:${port}" keyport-demo "${ROUNDS}" | tee -a "${work}/runs"
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p50_of() { grep "^usage-report $1 $2 " "${work}/runs" | sed -E 's/.*p50_ms=([0-9.]+).*/\1/' | median; }
verdict() { awk -v v="$1" 'BEGIN {exit !(v <= 50)}' && echo "MET" || echo "NOT MET"; }
cat <<EOF

============================ usage reports on demo data ============================
data: $(sed -n 2p "${stamp}")
30-day range, medians of ${RUNS} runs' p50 (${ROUNDS} sequential requests each), target <= 50 ms:
  developer (300 keys)  page $(p50_of developer page) ms  $(verdict "$(p50_of developer page)")   REST $(p50_of developer rest) ms  $(verdict "$(p50_of developer rest)")
  admin (all keys)      page $(p50_of admin page) ms  $(verdict "$(p50_of admin page)")   REST $(p50_of admin rest) ms  $(verdict "$(p50_of admin rest)")
====================================================================================
EOF
