#!/usr/bin/env bash
# Benchmarks (make bench), with the targets of the traffic-control issue:
#  1. domain verification of cached keys, ns/op (cargo bench --bench verify); bulk revoke of
#     10,000 audited keys on SQLite, median of 5 runs (cargo bench --bench bulk; target <= 2 s);
#  2. usage ingestion through the recorder, events/s (cargo bench --bench ingest): SQLite
#     (target >= 100,000 events/s), then PostgreSQL on a throwaway cluster (5 rounds of
#     500,000, medians reported);
#  3. HTTP, one release server on SQLite, usage logging on, 10,000 keys that each have a rate
#     limit and a quota (bench/make_keys.py --limited):
#     a. peak: POST /api/v1/keys/verify vs GET /healthz, wrk, ROUNDS rounds; the median ratio
#        of req/s (target >= 0.6);
#     b. latency at half of that median peak verify rate, held by benches/fixed_rate.rs and
#        measured from each request's scheduled send time (target: p99 <= 2 ms);
#     c. the gateway (/gw/bench/... -> a trivial upstream, benches/upstream.rs) vs the same
#        requests sent straight to the upstream, wrk, ROUNDS rounds: req/s, p50/p99 and the
#        per-request overhead (medians); and, at a light fixed rate (BENCH_GATEWAY_RATE), the
#        latency the gateway adds per request;
#     d. after every run that makes usage events: stored events against requests served;
#        after a graceful stop (SIGTERM) the total stored against the server's own count of
#        answers it recorded. A mismatch fails the script (exit 1), as do wrk socket errors and
#        non-2xx answers; a missed performance target is only reported (MET / NOT MET).
#  4. usage reports over 30 days on make seed-demo data: bench/usage.sh.
# Settings: BENCH_KEYS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_FIXED_DURATION,
# BENCH_GATEWAY_RATE, BENCH_GATEWAY_FIXED_DURATION (seconds) and BENCH_KEY_MODE=plain (keys
# without traffic settings, for comparison).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

KEYS="${BENCH_KEYS:-10000}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
ROUNDS="${BENCH_ROUNDS:-3}"
FIXED_DURATION="${BENCH_FIXED_DURATION:-15}"
GW_RATE="${BENCH_GATEWAY_RATE:-1000}"
GW_FIXED_DURATION="${BENCH_GATEWAY_FIXED_DURATION:-5}"
KEY_MODE="${BENCH_KEY_MODE:-limited}"
case "${KEY_MODE}" in
  limited) key_flags=(--limited) key_desc="rate limit 100000/s burst 0 + monthly quota 1e9" ;;
  plain) key_flags=() key_desc="no traffic settings (BENCH_KEY_MODE=plain)" ;;
  *) die "BENCH_KEY_MODE must be limited or plain" ;;
esac
# The usage writer's flush interval, set explicitly: the stored-event checks wait for it.
FLUSH_MS=500
started_at=${SECONDS}

command -v wrk >/dev/null 2>&1 || apt_install wrk

echo "==> domain verify"
domain_line="$(cargo bench --features ssr --bench verify 2>/dev/null | grep -E '^domain verify')"
echo "${domain_line}"

echo "==> bulk revoke (10,000 keys, SQLite)"
cargo bench --features ssr --bench bulk 2>/dev/null | grep -E '^bulk revoke'

echo "==> usage ingest"
ingest_sqlite="$(cargo bench --features ssr --bench ingest -- sqlite 2>/dev/null | grep -E '^usage ingest sqlite:')"
echo "${ingest_sqlite}"
scripts/ensure-tools.sh --postgres >/dev/null
# shellcheck disable=SC2016  # expanded by the inner shell, once with-postgres.sh has set it
ingest_pg="$(scripts/with-postgres.sh bash -c 'KEYPORT_BENCH_PG_URL="${KEYPORT_TEST_DATABASE_URL}" cargo bench --features ssr --bench ingest -- postgres' 2>/dev/null |
  grep -E '^usage ingest postgres:')"
echo "${ingest_pg}"

echo "==> HTTP: build"
load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if awk -v l="${load}" 'BEGIN {exit !(l > 1.0)}'; then
  echo "warning: load average ${load} before the HTTP benchmarks: other work on this machine skews them" >&2
fi
# The server as scripts/build.sh builds it (same cargo invocation, so nothing rebuilds twice).
if [[ ! -x target/release/keyport ]]; then
  scripts/build.sh
elif [[ -n "$(find src migrations Cargo.toml Cargo.lock -newer target/release/keyport -print -quit)" ]]; then
  echo "target/release/keyport is older than the sources: rebuilding it"
  cargo build --release --features ssr --bin keyport
fi
work="$(mktemp -d /tmp/keyport-bench.XXXXXX)"
server_pid=""
upstream_pid=""
cleanup() {
  [[ -n ${server_pid} ]] && kill "${server_pid}" 2>/dev/null && wait "${server_pid}" 2>/dev/null
  [[ -n ${upstream_pid} ]] && kill "${upstream_pid}" 2>/dev/null && wait "${upstream_pid}" 2>/dev/null
  rm -rf -- "${work}"
}
trap cleanup EXIT
# The load generator and the upstream: bench targets, run as plain programs (not through
# cargo, which would hold the build lock while they run).
cargo bench --features ssr --no-run --bench fixed_rate --bench upstream \
  --message-format=json-render-diagnostics >"${work}/helpers.json"
helper() {
  python3 - "${work}/helpers.json" "$1" <<'EOF'
import json, sys
path = ""
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[2] and m.get("executable"):
        path = m["executable"]
print(path)
EOF
}
fixed_rate_bin="$(helper fixed_rate)"
upstream_bin="$(helper upstream)"
[[ -x ${fixed_rate_bin} && -x ${upstream_bin} ]] || die "cargo built no fixed_rate/upstream bench binaries"

# ---- helpers -------------------------------------------------------------------------------
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
to_ms() { # wrk's "412.00us" / "1.23ms" / "1.01s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else { printf "nan" } }'
}
summarise() { # wrk output -> "rps p50_ms p99_ms answered sent"
  local rps p50 p99 answered sent
  read -r rps p50 p99 answered sent < <(awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    / requests in / {n=$1} /^requests sent:/ {sent=$3}
    END {print rps, (p50 == "" ? "-" : p50), (p99 == "" ? "-" : p99), n, sent}' "$1")
  echo "${rps} $(to_ms "${p50}") $(to_ms "${p99}") ${answered} ${sent}"
}
failures=()
fail() {
  echo "FAIL: $*" >&2
  failures+=("$*")
}
wrk_problems() { # warns about socket errors and non-2xx answers in a wrk output
  local label=$1 file=$2
  if grep -qE "Socket errors|Non-2xx" "${file}"; then
    fail "${label}: $(grep -hE "Socket errors|Non-2xx" "${file}" | tr -s ' ' | paste -sd ';')"
  fi
}

db="${work}/data/keyport.db"
stored_events() {
  if have sqlite3; then
    sqlite3 -cmd ".timeout 10000" "${db}" 'SELECT count(*) FROM usage_events;'
  else
    python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1], timeout=10).execute("SELECT count(*) FROM usage_events").fetchone()[0])' "${db}"
  fi
}
# The count once the writer has stored what it holds: unchanged for more than two flush
# intervals (it writes at most one interval after an event arrives).
settled_events() {
  local last now stable=0
  last="$(stored_events)"
  for _ in $(seq 1 60); do
    sleep 0.25
    now="$(stored_events)"
    if [[ ${now} == "${last}" ]]; then
      stable=$((stable + 1))
      ((stable * 250 > 2 * FLUSH_MS)) && break
    else
      stable=0
      last=${now}
    fi
  done
  echo "${last}"
}
upstream_count() { curl -sf "http://127.0.0.1:${uport}/__count"; }

# Requests that make usage events, per run: what the clients know (answers read; requests
# sent, which also counts those wrk abandoned in flight when it stopped) and what was stored.
events_seen=0 # stored before the run being checked
sum_done=0
sum_sent=0
check_run() { # LABEL ANSWERED SENT STORED_NOW [UPSTREAM_DELTA]
  local label=$1 answered=$2 sent=$3 now=$4 up=${5:-}
  local delta=$((now - events_seen))
  events_seen=${now}
  sum_done=$((sum_done + answered))
  sum_sent=$((sum_sent + sent))
  local msg="${label}: usage events stored ${delta}; answers read ${answered}, requests sent ${sent}"
  if ((sent > answered)); then
    msg+=" ($((sent - answered)) in flight when the client stopped, $((delta - answered)) of them reached a handler)"
  fi
  [[ -n ${up} ]] && msg+="; upstream served ${up}"
  echo "  ${msg}"
  if ((delta < answered || delta > sent)); then
    fail "${label}: ${delta} usage events stored, expected between ${answered} (answered) and ${sent} (sent)"
  fi
  # The upstream's count is the server side's own: calls the gateway forwarded.
  if [[ -n ${up} ]] && ((delta != up)); then
    gw_unlogged=$((gw_unlogged + up - delta))
    echo "  WARNING: ${label}: the upstream served ${up} gateway calls, $((up - delta)) more than have a usage event" >&2
  fi
}
gw_unlogged=0

# ---- server and upstream -------------------------------------------------------------------
port="$(free_port)"
base="http://127.0.0.1:${port}"
# usage=info: the writer logs its own counts when it stops (recorded, written, dropped);
# JSON, so that they are read without colour codes in the way.
KEYPORT_ADDR="127.0.0.1:${port}" KEYPORT_DATA_DIR="${work}/data" KEYPORT_USAGE_FLUSH_MS="${FLUSH_MS}" \
  RUST_LOG=warn,keyport::domain::usage=info KEYPORT_LOG_FORMAT=json \
  KEYPORT_ADMIN_EMAIL=bench@keyport.test KEYPORT_ADMIN_PASSWORD=bench-password-1 \
  ./target/release/keyport >"${work}/server.log" 2>&1 &
server_pid=$!
uport="$(free_port)"
"${upstream_bin}" --addr "127.0.0.1:${uport}" >"${work}/upstream.log" 2>&1 &
upstream_pid=$!
for _ in $(seq 1 150); do curl -sf "${base}/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "${base}/readyz" >/dev/null || {
  cat "${work}/server.log" >&2
  die "the server did not become ready"
}
for _ in $(seq 1 50); do upstream_count >/dev/null 2>&1 && break; sleep 0.1; done
upstream_count >/dev/null || die "the upstream did not start: $(cat "${work}/upstream.log")"

echo "==> HTTP: ${KEYS} keys (${key_desc}), API 'bench' mounted on the upstream"
python3 bench/make_keys.py "${base}" bench@keyport.test bench-password-1 "${KEYS}" "${work}/keys.txt" \
  "${key_flags[@]}" --mount "bench=http://127.0.0.1:${uport}"
first_key="$(head -n1 "${work}/keys.txt")"
probe="$(curl -sf -H 'content-type: application/json' -d "{\"key\":\"${first_key}\",\"scopes\":[\"read\"]}" "${base}/api/v1/keys/verify")"
echo "  one verification: ${probe}"
check_run "one verification" 1 1 "$(settled_events)"

# ---- (a) peak: verify vs healthz -------------------------------------------------------------
echo "==> HTTP verify vs healthz (${CONNECTIONS} connections, ${DURATION} x ${ROUNDS} rounds)"
# one pass over every key first, so all are cached (and hold a quota lease) as in steady state
wrk -t2 -c"${CONNECTIONS}" -d3s -s bench/verify.lua "${base}" -- "${work}/keys.txt" >"${work}/verify.warm"
wrk_problems "verify warm-up" "${work}/verify.warm"
read -r _ _ _ answered sent < <(summarise "${work}/verify.warm")
check_run "verify warm-up" "${answered}" "${sent}" "$(settled_events)"
for round in $(seq 1 "${ROUNDS}"); do
  wrk -t2 -c"${CONNECTIONS}" -d"${DURATION}" --latency -s bench/healthz.lua "${base}" >"${work}/health.${round}"
  wrk -t2 -c"${CONNECTIONS}" -d"${DURATION}" --latency -s bench/verify.lua "${base}" -- "${work}/keys.txt" >"${work}/verify.${round}"
  wrk_problems "healthz round ${round}" "${work}/health.${round}"
  wrk_problems "verify round ${round}" "${work}/verify.${round}"
  read -r h_rps h_p50 h_p99 _ _ < <(summarise "${work}/health.${round}")
  read -r v_rps v_p50 v_p99 answered sent < <(summarise "${work}/verify.${round}")
  ratio="$(awk -v v="${v_rps}" -v h="${h_rps}" 'BEGIN {printf "%.2f", v / h}')"
  echo "round ${round}: healthz ${h_rps} req/s (p50 ${h_p50} ms, p99 ${h_p99} ms); verify ${v_rps} req/s (p50 ${v_p50} ms, p99 ${v_p99} ms); ratio ${ratio}"
  echo "${ratio} ${h_rps} ${v_rps} ${v_p50} ${v_p99} ${h_p50} ${h_p99}" >>"${work}/rounds"
  check_run "verify round ${round}" "${answered}" "${sent}" "$(settled_events)"
done
read -r m_ratio m_h_rps m_v_rps m_v_p50 m_v_p99 m_h_p50 m_h_p99 < <(sort -g "${work}/rounds" |
  awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
v_rps_median="$(awk '{print $3}' "${work}/rounds" | median)"
echo "median round: ratio ${m_ratio} (healthz ${m_h_rps} req/s, verify ${m_v_rps} req/s, verify p50 ${m_v_p50} ms, p99 ${m_v_p99} ms)"

# ---- (b) latency at half of the peak ---------------------------------------------------------
rate="$(awk -v r="${v_rps_median}" 'BEGIN {printf "%d", r / 2}')"
echo "==> HTTP latency at a fixed ${rate} req/s (half the median peak verify rate of ${v_rps_median}), ${CONNECTIONS} connections, ${FIXED_DURATION}s each"
fixed() { # OUT_FILE LABEL RATE SECONDS URL [ARGS...]
  local out=$1 label=$2 r=$3 secs=$4 url=$5
  shift 5
  if ! "${fixed_rate_bin}" --url "${url}" --rate "${r}" --duration "${secs}" \
    --connections "${CONNECTIONS}" "$@" >"${out}"; then
    fail "${label}: the fixed-rate run had failed connections or non-2xx answers"
  fi
  grep -v '^fixed-rate-result' "${out}"
}
field() { grep '^fixed-rate-result' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }
rows_before_fixed=${events_seen}
fixed "${work}/fixed.health" "fixed-rate healthz" "${rate}" "${FIXED_DURATION}" "${base}/healthz"
fixed "${work}/fixed.verify" "fixed-rate verify" "${rate}" "${FIXED_DURATION}" \
  "${base}/api/v1/keys/verify" --verify-keys "${work}/keys.txt"
f_sent="$(field "${work}/fixed.verify" sent)"
check_run "fixed-rate verify" "${f_sent}" "${f_sent}" "$(settled_events)"

# ---- (c) gateway overhead ------------------------------------------------------------------
gw_path="/gw/bench/v1/ping"
echo "==> HTTP gateway (${gw_path} -> upstream /v1/ping) vs the upstream directly (${CONNECTIONS} connections, ${DURATION} x ${ROUNDS} rounds)"
wrk -t2 -c"${CONNECTIONS}" -d2s -s bench/gateway.lua "http://127.0.0.1:${uport}" -- "${work}/keys.txt" /v1/ping >/dev/null
up_before="$(upstream_count)"
wrk -t2 -c"${CONNECTIONS}" -d3s -s bench/gateway.lua "${base}" -- "${work}/keys.txt" "${gw_path}" >"${work}/gw.warm"
wrk_problems "gateway warm-up" "${work}/gw.warm"
read -r _ _ _ answered sent < <(summarise "${work}/gw.warm")
now="$(settled_events)"
check_run "gateway warm-up" "${answered}" "${sent}" "${now}" "$(($(upstream_count) - up_before))"
# Per-request overhead without queueing: the same calls at a light fixed rate.
echo "light load: ${GW_RATE} req/s for ${GW_FIXED_DURATION}s each, benches/fixed_rate.rs, latency from the scheduled send time"
fixed "${work}/light.direct" "fixed-rate upstream" "${GW_RATE}" "${GW_FIXED_DURATION}" \
  "http://127.0.0.1:${uport}/v1/ping" --gateway-keys "${work}/keys.txt"
up_before="$(upstream_count)"
fixed "${work}/light.gw" "fixed-rate gateway" "${GW_RATE}" "${GW_FIXED_DURATION}" \
  "${base}${gw_path}" --gateway-keys "${work}/keys.txt"
f_sent="$(field "${work}/light.gw" sent)"
now="$(settled_events)"
check_run "fixed-rate gateway" "${f_sent}" "${f_sent}" "${now}" "$(($(upstream_count) - up_before))"
last_gw=()
for round in $(seq 1 "${ROUNDS}"); do
  wrk -t2 -c"${CONNECTIONS}" -d"${DURATION}" --latency -s bench/gateway.lua "http://127.0.0.1:${uport}" -- "${work}/keys.txt" /v1/ping >"${work}/direct.${round}"
  up_before="$(upstream_count)"
  wrk -t2 -c"${CONNECTIONS}" -d"${DURATION}" --latency -s bench/gateway.lua "${base}" -- "${work}/keys.txt" "${gw_path}" >"${work}/gw.${round}"
  wrk_problems "upstream round ${round}" "${work}/direct.${round}"
  wrk_problems "gateway round ${round}" "${work}/gw.${round}"
  read -r d_rps d_p50 d_p99 _ _ < <(summarise "${work}/direct.${round}")
  read -r g_rps g_p50 g_p99 answered sent < <(summarise "${work}/gw.${round}")
  read -r overhead g_ratio < <(awk -v gp="${g_p50}" -v dp="${d_p50}" -v gr="${g_rps}" -v dr="${d_rps}" \
    'BEGIN {printf "%.3f %.2f\n", gp - dp, gr / dr}')
  echo "round ${round}: upstream ${d_rps} req/s (p50 ${d_p50} ms, p99 ${d_p99} ms); gateway ${g_rps} req/s (p50 ${g_p50} ms, p99 ${g_p99} ms); overhead p50 +${overhead} ms, throughput ratio ${g_ratio}"
  echo "${d_rps} ${d_p50} ${d_p99} ${g_rps} ${g_p50} ${g_p99} ${overhead} ${g_ratio}" >>"${work}/gw_rounds"
  if ((round < ROUNDS)); then
    now="$(settled_events)"
    check_run "gateway round ${round}" "${answered}" "${sent}" "${now}" "$(($(upstream_count) - up_before))"
  else
    # The last run is checked after the graceful stop, so its events are the ones the
    # shutdown has to flush.
    last_gw=("${answered}" "${sent}" "${up_before}")
  fi
done
col() { awk -v c="$1" '{print $c}' "${work}/gw_rounds" | median; }
gw_d_rps="$(col 1)" gw_d_p50="$(col 2)" gw_d_p99="$(col 3)"
gw_g_rps="$(col 4)" gw_g_p50="$(col 5)" gw_g_p99="$(col 6)"
gw_overhead="$(col 7)" gw_ratio="$(col 8)"
echo "medians: upstream ${gw_d_rps} req/s (p50 ${gw_d_p50} ms, p99 ${gw_d_p99} ms); gateway ${gw_g_rps} req/s (p50 ${gw_g_p50} ms, p99 ${gw_g_p99} ms); overhead p50 +${gw_overhead} ms, throughput ratio ${gw_ratio}"

# ---- (d) stored usage events == requests served -------------------------------------------
echo "==> usage events: graceful stop (SIGTERM), then count"
kill -TERM "${server_pid}"
for _ in $(seq 1 300); do kill -0 "${server_pid}" 2>/dev/null || break; sleep 0.1; done
server_rc=0
wait "${server_pid}" || server_rc=$?
server_pid=""
((server_rc == 0)) || fail "the server exited with ${server_rc} after SIGTERM"
stored="$(stored_events)"
check_run "gateway round ${ROUNDS}" "${last_gw[0]}" "${last_gw[1]}" "${stored}" "$(($(upstream_count) - last_gw[2]))"
kill -TERM "${upstream_pid}"
wait "${upstream_pid}" || true
upstream_pid=""
# The server's own count: every verify and gateway answer calls the recorder once; it counts
# what it queued (recorded) and what it could not (dropped), and logs both when it stops.
writer_line="$(grep 'usage writer stopped' "${work}/server.log" || true)"
writer_count() { grep -o "\"$1\":[0-9]*" <<<"${writer_line}" | cut -d: -f2 || true; }
recorded="$(writer_count recorded)"
dropped="$(writer_count dropped)"
written="$(writer_count written)"
if [[ -z ${recorded} || -z ${dropped} ]]; then
  fail "no 'usage writer stopped' line in the server log: the server did not stop gracefully"
  served="?"
else
  served=$((recorded + dropped))
fi
echo "usage events stored: ${stored}, requests served: ${served} (server: recorded ${recorded:-?}, written ${written:-?}, dropped ${dropped:-?}; clients: ${sum_done} answers read, ${sum_sent} requests sent)"
if [[ ${served} != "${stored}" ]]; then
  fail "usage events stored (${stored}) != requests served (${served})"
fi
if ((stored < sum_done || stored > sum_sent)); then
  fail "usage events stored (${stored}) outside what the clients saw (${sum_done} answered .. ${sum_sent} sent)"
fi
grep -E '"level":"(WARN|ERROR)"' "${work}/server.log" | head -5 >&2 || true

# ---- summary -------------------------------------------------------------------------------
verdict() { if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {exit !((op == ">=") ? a >= b : a <= b)}'; then echo "MET"; else echo "NOT MET"; fi; }
sqlite_rate="$(sed -E 's/.*median ([0-9]+) events.*/\1/' <<<"${ingest_sqlite}")"
pg_rate="$(sed -E 's/.*median ([0-9]+) events.*/\1/' <<<"${ingest_pg}")"
f_p50="$(field "${work}/fixed.verify" p50_ms)" f_p99="$(field "${work}/fixed.verify" p99_ms)"
f_p999="$(field "${work}/fixed.verify" p999_ms)" f_max="$(field "${work}/fixed.verify" max_ms)"
f_lag="$(field "${work}/fixed.verify" lag_p99_ms)" f_svc="$(field "${work}/fixed.verify" service_p99_ms)"
fh_p50="$(field "${work}/fixed.health" p50_ms)" fh_p99="$(field "${work}/fixed.health" p99_ms)"
l_d_p50="$(field "${work}/light.direct" p50_ms)" l_d_p99="$(field "${work}/light.direct" p99_ms)"
l_g_p50="$(field "${work}/light.gw" p50_ms)" l_g_p99="$(field "${work}/light.gw" p99_ms)"
l_overhead="$(awk -v g="${l_g_p50}" -v d="${l_d_p50}" 'BEGIN {printf "%.3f", g - d}')"
cat <<EOF

================================ benchmark summary ================================
machine: $(nproc) cores; server, load generator and upstream share them. Medians of ${ROUNDS} rounds.
keys: ${KEYS}, ${key_desc}; usage logging on (SQLite, flush ${FLUSH_MS} ms).

domain verify (cargo bench --bench verify, no HTTP/DB):
  ${domain_line}
usage ingestion (cargo bench --bench ingest, recorder -> database, 5 x 500,000 events):
  SQLite      ${sqlite_rate} events/s   target >= 100000: $(verdict "${sqlite_rate}" ">=" 100000)
  PostgreSQL  ${pg_rate} events/s   (measured, no target)
(a) peak, wrk -t2 -c${CONNECTIONS} -d${DURATION}, round = healthz run then verify run:
  GET /healthz               ${m_h_rps} req/s (p50 ${m_h_p50} ms, p99 ${m_h_p99} ms)   [median-ratio round]
  POST /api/v1/keys/verify   ${m_v_rps} req/s (p50 ${m_v_p50} ms, p99 ${m_v_p99} ms)   [median-ratio round]
  verify/healthz ratio       ${m_ratio}   target >= 0.6: $(verdict "${m_ratio}" ">=" 0.6)
(b) verify at half the median peak (${v_rps_median} / 2 = ${rate} req/s), ${FIXED_DURATION}s, ${CONNECTIONS} connections,
    benches/fixed_rate.rs, latency from each request's scheduled send time, ${rows_before_fixed} usage events stored before:
  verify    p50 ${f_p50} ms, p99 ${f_p99} ms, p99.9 ${f_p999} ms, max ${f_max} ms
            (from the actual send: p99 ${f_svc} ms; sender lag p99 ${f_lag} ms)
            target p99 <= 2 ms: $(verdict "${f_p99}" "<=" 2)
  healthz   p50 ${fh_p50} ms, p99 ${fh_p99} ms (same rate: the floor of server + generator)
(c) gateway, wrk -t2 -c${CONNECTIONS} -d${DURATION}, same GET with X-API-Key sent to the upstream
    (/v1/ping) and through the gateway (${gw_path}); medians per figure:
  upstream directly   ${gw_d_rps} req/s (p50 ${gw_d_p50} ms, p99 ${gw_d_p99} ms)
  through gateway     ${gw_g_rps} req/s (p50 ${gw_g_p50} ms, p99 ${gw_g_p99} ms)
  overhead            +${gw_overhead} ms at p50; gateway/direct throughput ${gw_ratio}
  at ${GW_RATE} req/s (benches/fixed_rate.rs, ${GW_FIXED_DURATION}s each, from scheduled send time):
    upstream directly p50 ${l_d_p50} ms, p99 ${l_d_p99} ms; through gateway p50 ${l_g_p50} ms, p99 ${l_g_p99} ms
    overhead per request +${l_overhead} ms at p50
(d) usage events stored: ${stored}, requests served: ${served}
    (served = the server's recorder count of verify + gateway answers, recorded ${recorded:-?} + dropped ${dropped:-?};
     counted in SQLite after SIGTERM; clients read ${sum_done} answers and sent ${sum_sent} requests;
     each of the $((ROUNDS * 2 + 5)) runs was also checked on its own)  $([[ ${served} == "${stored}" ]] && echo "EQUAL" || echo "DIFFERENT")
    gateway calls the upstream served that have no usage event: ${gw_unlogged}$( ((gw_unlogged > 0)) &&
  echo " (calls still in flight when wrk stopped: the gateway had forwarded them, then its
    handler was dropped with the client's connection before it recorded the call)")
total time: $((SECONDS - started_at)) s
====================================================================================
EOF

# ---- (e) usage reports on demo data at scale ------------------------------------------------
bench/usage.sh || fail "usage reports benchmark (bench/usage.sh)"

if ((${#failures[@]} > 0)); then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
