#!/usr/bin/env bash
# Benchmarks (make bench):
#  1. domain verification of cached keys, ns/op (cargo bench --bench verify);
#  2. usage ingestion through the recorder, events/s (cargo bench --bench ingest): SQLite, then
#     PostgreSQL on a throwaway cluster (5 rounds of 500,000, medians reported);
#  3. HTTP POST /api/v1/keys/verify over 10,000 distinct keys vs GET /healthz on the same
#     release server in the same run: requests/s, the ratio, p50/p99 latency (wrk, 3 rounds,
#     medians reported).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

KEYS="${BENCH_KEYS:-10000}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
ROUNDS="${BENCH_ROUNDS:-3}"

command -v wrk >/dev/null 2>&1 || apt_install wrk

echo "==> domain verify"
cargo bench --features ssr --bench verify 2>/dev/null | grep -E '^domain verify'

echo "==> usage ingest"
cargo bench --features ssr --bench ingest -- sqlite 2>/dev/null | grep -E '^usage ingest sqlite:'
scripts/ensure-tools.sh --postgres >/dev/null
# shellcheck disable=SC2016  # expanded by the inner shell, once with-postgres.sh has set it
scripts/with-postgres.sh bash -c 'KEYPORT_BENCH_PG_URL="${KEYPORT_TEST_DATABASE_URL}" cargo bench --features ssr --bench ingest -- postgres' 2>/dev/null |
  grep -E '^usage ingest postgres:'

echo "==> HTTP verify vs healthz (${KEYS} keys, ${CONNECTIONS} connections, ${DURATION} x ${ROUNDS} rounds)"
[[ -x target/release/keyport ]] || scripts/build.sh
work="$(mktemp -d /tmp/keyport-bench.XXXXXX)"
server_pid=""
cleanup() {
  [[ -n ${server_pid} ]] && kill "${server_pid}" 2>/dev/null && wait "${server_pid}" 2>/dev/null
  rm -rf -- "${work}"
}
trap cleanup EXIT
port="$(free_port)"
base="http://127.0.0.1:${port}"
KEYPORT_ADDR="127.0.0.1:${port}" KEYPORT_DATA_DIR="${work}/data" RUST_LOG=warn \
  KEYPORT_ADMIN_EMAIL=bench@keyport.test KEYPORT_ADMIN_PASSWORD=bench-password-1 \
  ./target/release/keyport >"${work}/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -sf "${base}/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
python3 bench/make_keys.py "${base}" bench@keyport.test bench-password-1 "${KEYS}" "${work}/keys.txt"
# one pass over every key first, so all are cached as they would be in steady state
wrk -t2 -c"${CONNECTIONS}" -d3s -s bench/verify.lua "${base}" -- "${work}/keys.txt" >/dev/null

summarise() { # file -> "rps p50 p99"
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {print rps, p50, p99}' "$1"
}
for round in $(seq 1 "${ROUNDS}"); do
  wrk -t2 -c"${CONNECTIONS}" -d"${DURATION}" --latency -s bench/healthz.lua "${base}" >"${work}/health.${round}"
  wrk -t2 -c"${CONNECTIONS}" -d"${DURATION}" --latency -s bench/verify.lua "${base}" -- "${work}/keys.txt" >"${work}/verify.${round}"
  read -r h_rps h_p50 h_p99 < <(summarise "${work}/health.${round}")
  read -r v_rps v_p50 v_p99 < <(summarise "${work}/verify.${round}")
  ratio="$(awk -v v="${v_rps}" -v h="${h_rps}" 'BEGIN {printf "%.2f", v / h}')"
  echo "round ${round}: healthz ${h_rps} req/s (p50 ${h_p50}, p99 ${h_p99}); verify ${v_rps} req/s (p50 ${v_p50}, p99 ${v_p99}); ratio ${ratio}"
  echo "${ratio} ${h_rps} ${v_rps} ${v_p50} ${v_p99}" >>"${work}/rounds"
done
sort -n "${work}/rounds" | awk '{a[NR]=$0} END {split(a[int((NR+1)/2)], m, " "); printf "median round: ratio %s (healthz %s req/s, verify %s req/s, verify p50 %s, p99 %s)\n", m[1], m[2], m[3], m[4], m[5]}'
if grep -q "Non-2xx" "${work}"/verify.*; then
  echo "warning: some verify requests did not answer 200" >&2
  grep -h "Non-2xx" "${work}"/verify.* >&2
fi
