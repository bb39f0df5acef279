#!/usr/bin/env bash
# Benchmark: builds wingman in release mode (plain and static) and the helper tool
# in scripts/bench/ (a load generator, an SSE client, a bare tiny_http server and
# a fake Anthropic provider, all in Rust), then prints one Markdown table. Every
# figure that has a baseline is measured against it in the same run, so the
# ratios hold on a noisy machine.
#
# Usage: scripts/bench.sh [SECONDS]   (SECONDS: measured time per load run, default 3)
#
# Everything runs on 127.0.0.1. Each helper run is bounded (`timeout`, request
# counts, socket timeouts); the trap stops every process started here and removes
# the temp dir. About one minute once built, on 2 cores.
set -euo pipefail

LOAD_SECONDS=${1:-3}
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    done
    for pid in "${PIDS[@]}"; do
        if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building wingman (release)" >&2
cargo build --release --quiet
BIN=$ROOT/target/release/wingman
echo "== building wingman (static)" >&2
if ! scripts/build-static.sh >"$WORK/static.out" 2>"$WORK/static.err"; then
    cat "$WORK/static.err" >&2
    exit 1
fi
STATIC=$(head -1 "$WORK/static.out")
echo "== building the bench tool" >&2
cargo build --release --quiet --manifest-path scripts/bench/Cargo.toml
WB=$ROOT/scripts/bench/target/release/wbench

# Every helper run is bounded in time.
wb() { timeout 300 "$WB" "$@"; }

# start NAME CMD…: runs CMD, reads its first stdout line (`… listening on
# http://127.0.0.1:PORT`) as the signal that it is up; sets PID and URL.
start() {
    local name=$1 fd line
    shift
    exec {fd}< <(exec "$@" 2>>"$WORK/$name.log")
    PID=$!
    PIDS+=("$PID")
    if ! IFS= read -r -t 30 -u "$fd" line; then
        echo "error: $name did not start; its log:" >&2
        cat "$WORK/$name.log" >&2
        exit 1
    fi
    URL=${line##* }
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    PIDS=("${PIDS[@]/#$1/}")
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Formatting.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "n/a" }'; }
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
# `load` prints: req/s p50_ms p99_ms errors requests
load_cell() { awk '{ printf "%d req/s, p50 %.2f ms, p99 %.2f ms", $1, $2, $3; if ($4 > 0) printf ", %d errors", $4 }' <<<"$1"; }

# configure WINGMAN_URL PROVIDER_URL: points anthropic at the fake provider and
# creates the agents (their model names choose the fake provider's behaviour).
configure() {
    wb call PUT "$1/provider/auth" \
        "{\"providers\":{\"anthropic\":{\"type\":\"api_key\",\"key\":\"k\",\"base_url\":\"$2/v1\"}}}" >/dev/null
    AGENT_BURST=$(wb call POST "$1/agents" '{"name":"burst","model":"fake:burst:2000"}' --field id)
    AGENT_PACED=$(wb call POST "$1/agents" '{"name":"paced","model":"fake:paced:2000:1000"}' --field id)
    AGENT_INSTANT=$(wb call POST "$1/agents" '{"name":"instant","model":"fake:instant"}' --field id)
    AGENT_HOLD=$(wb call POST "$1/agents" '{"name":"hold","model":"fake:hold"}' --field id)
}

echo "== measuring" >&2
start fake-provider "$WB" fake-provider
PROVIDER=$URL

# Sizes.
size_release=$(($(stat -c %s "$BIN") / 1024))
size_static=$(($(stat -c %s "$STATIC") / 1024))

# Start-up: exec → first answered /health, median of 10 (a fresh database each time).
start_wingman=$(wb startup --runs 10 -- "$BIN" serve --port 0 --db "$WORK/start-{i}.db")
start_bare=$(wb startup --runs 10 -- "$WB" bare)

# Memory: the bare server idle; wingman idle, after 10,000 sessions, with 200 streams.
start bare "$WB" bare
wb call GET "$URL/health" >/dev/null
rss_bare=$(rss_kb "$PID")
stop "$PID"
start wingman-rss "$BIN" serve --port 0 --db "$WORK/rss.db"
W=$URL
W_PID=$PID
configure "$W" "$PROVIDER"
rss_idle=$(rss_kb "$W_PID")
sessions_10k=$(wb load "$W/sessions" --method POST --body '{}' --clients 16 --requests 10000 --warmup 0 --seconds 240)
rss_10k=$(rss_kb "$W_PID")
read -r held rss_streams < <(wb hold "$W" "$AGENT_HOLD" --count 200 --pid "$W_PID")
stop "$W_PID"

# Throughput: each wingman route against the bare server, same client count.
start bare "$WB" bare
BARE=$URL
start wingman "$BIN" serve --port 0 --db "$WORK/wingman.db"
W=$URL
configure "$W" "$PROVIDER"
EMPTY=$(wb call POST "$W/sessions" '{}' --field id)
SESSION=$(wb call POST "$W/sessions" '{}' --field id)
for _ in 1 2 3 4 5; do # 10 messages of history
    wb call POST "$W/sessions/$SESSION/message" "{\"agent_id\":\"$AGENT_INSTANT\",\"prompt\":\"hi\"}" >/dev/null
done
EMPTY_BYTES=$(wb call GET "$W/sessions/$EMPTY" | tr -d "\n" | wc -c)
SESSION_BYTES=$(wb call GET "$W/sessions/$SESSION" | tr -d "\n" | wc -c)
declare -A LOAD
for c in 16 64; do
    LOAD[bare$c]=$(wb load "$BARE/health" --clients "$c" --seconds "$LOAD_SECONDS")
    LOAD[health$c]=$(wb load "$W/health" --clients "$c" --seconds "$LOAD_SECONDS")
    LOAD[agents$c]=$(wb load "$W/agents" --method POST --body '{"name":"load"}' --clients "$c" --seconds "$LOAD_SECONDS")
    LOAD[empty$c]=$(wb load "$W/sessions/$EMPTY" --clients "$c" --seconds "$LOAD_SECONDS")
    LOAD[session$c]=$(wb load "$W/sessions/$SESSION" --clients "$c" --seconds "$LOAD_SECONDS")
done

# SSE relay: 2,000 deltas as fast as possible (events/s, median of 3), then 2,000
# paced at one per ms (per-event latency), through wingman and read directly.
read -r w_eps d_eps w_p50 w_p99 d_p50 d_p99 < <(wb relay "$W" "$PROVIDER" "$AGENT_BURST" "$AGENT_PACED")

# One agent step with an instant provider vs the direct provider call.
read -r turn_p50 turn_p99 direct_p50 direct_p99 < <(wb step "$W" "$PROVIDER" "$AGENT_INSTANT" --turns 100)

# Appending one message: session of 10 vs 10,000 messages, in process.
read -r short_p50 short_p99 long_p50 long_p99 < <(wb append "$WORK/append.db" --short 10 --long 10000 --count 200)

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "wingman $("$BIN" --version | awk '{ print $NF }') ($(git rev-parse --short HEAD)), $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), ${LOAD_SECONDS}s per load run"
echo
row "Measure" "Wingman" "Baseline (same run)" "Ratio"
row "---" "---" "---" "---"
row "Binary size, release (LTO, stripped)" "$(mib "$size_release")" "—" "—"
row "Binary size, static (crt-static)" "$(mib "$size_static")" "release: $(mib "$size_release")" "$(ratio "$size_static" "$size_release")"
row "Exec → first answered \`GET /health\` (median of 10)" "$(ms "$start_wingman")" "bare tiny_http: $(ms "$start_bare")" "$(ratio "$start_wingman" "$start_bare")"
row "RSS idle" "$(mib "$rss_idle")" "bare tiny_http idle: $(mib "$rss_bare")" "$(ratio "$rss_idle" "$rss_bare")"
row "RSS after creating 10,000 sessions" "$(mib "$rss_10k")" "wingman idle: $(mib "$rss_idle")" "$(ratio "$rss_10k" "$rss_idle")"
row "RSS with $held SSE streams open" "$(mib "$rss_streams")" "wingman idle: $(mib "$rss_idle")" "$(ratio "$rss_streams" "$rss_idle")"
row "\`POST /sessions\` ×10,000, 16 clients" "$(load_cell "$sessions_10k")" "—" "—"
for c in 16 64; do
    bare_rps=${LOAD[bare$c]%% *}
    for route in health agents empty session; do
        case $route in
        health) label="\`GET /health\`" ;;
        agents) label="\`POST /agents\`" ;;
        empty) label="\`GET /sessions/{id}\` (empty, $EMPTY_BYTES B)" ;;
        session) label="\`GET /sessions/{id}\` (10 messages, $SESSION_BYTES B)" ;;
        esac
        row "$label, $c clients" "$(load_cell "${LOAD[$route$c]}")" "bare tiny_http: $(load_cell "${LOAD[bare$c]}")" \
            "$(ratio "${LOAD[$route$c]%% *}" "$bare_rps") req/s"
    done
done
row "SSE relay, 2,000 deltas: events/s at the client (median of 3)" "$w_eps/s" "provider read directly: $d_eps/s" "$(ratio "$w_eps" "$d_eps")"
row "SSE per-event latency p50 / p99 (1 delta per ms)" "$(ms "$w_p50") / $(ms "$w_p99")" \
    "provider read directly: $(ms "$d_p50") / $(ms "$d_p99")" \
    "added: $(ms $((w_p50 - d_p50))) / $(ms $((w_p99 - d_p99)))"
row "Append one message to a session of 10,000 messages, p50 / p99" "$(ms "$long_p50") / $(ms "$long_p99")" \
    "session of 10: $(ms "$short_p50") / $(ms "$short_p99")" "$(ratio "$long_p50" "$short_p50") (p50)"
row "One agent step, instant 1-delta provider, p50 / p99" "$(ms "$turn_p50") / $(ms "$turn_p99")" \
    "the provider called directly: $(ms "$direct_p50") / $(ms "$direct_p99")" \
    "overhead: $(ms $((turn_p50 - direct_p50))) (p50)"
