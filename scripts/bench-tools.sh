#!/usr/bin/env bash
# Benchmark: `wingman tool grep` / `wingman tool glob` against ripgrep on the same
# searches over a generated corpus (thousands of files in nested folders, a few
# multi-MB files, binary files, and .git / node_modules / target trees that both
# sides skip). Prints a table of median wall times and the wingman/rg ratio.
#
# Usage: scripts/bench-tools.sh [RUNS]     (RUNS: timed runs per command, default 7)
# Installs ripgrep with apt-get when `rg` is missing; uses hyperfine when present.
set -euo pipefail

RUNS=${1:-7}
cd "$(dirname "$0")/.."

echo "== building release" >&2
cargo build --release --quiet
BIN=$PWD/target/release/wingman

if ! command -v rg >/dev/null 2>&1; then
    echo "== installing ripgrep" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq ripgrep >/dev/null
fi

CORPUS=$(mktemp -d)
trap 'rm -rf "$CORPUS"' EXIT

echo "== generating the corpus in $CORPUS" >&2
# 40 x 5 folders x 20 files = 4000 source files of ~60 lines each, in one awk run.
awk -v root="$CORPUS" 'BEGIN {
    srand(42);
    split("rs py ts md", exts, " ");
    split("alpha beta gamma delta omega", words, " ");
    n = 0;
    for (a = 0; a < 40; a++) for (b = 0; b < 5; b++) {
        dir = root "/src/pkg" a "/mod" b;
        system("mkdir -p " dir);
        for (f = 0; f < 20; f++) {
            n++;
            ext = exts[(n % 4) + 1];
            path = dir "/file" f "." ext;
            for (l = 0; l < 60; l++) {
                w = words[int(rand() * 5) + 1];
                printf "fn handle_%s_%d(input: &str) -> Result<u32, Error> { parse(input, %d) } // line %d\n", w, int(rand() * 1000), l, l > path;
            }
            if (n % 97 == 0) print "    // TODO(perf): avoid the copy here" > path;
            if (n % 800 == 0) print "const MARKER: &str = \"XYZZY_NEEDLE\";" > path;
            close(path);
        }
    }
}'
# A few large text files (4 MB each): the needle near the end of one.
mkdir -p "$CORPUS/logs"
for i in 1 2 3; do
    { yes "2026-01-01T00:00:00Z INFO request served in 12ms path=/api/v1/items status=200" |
        head -c 4000000 || true; } >"$CORPUS/logs/big$i.log"
done
echo "XYZZY_NEEDLE in a big log" >>"$CORPUS/logs/big2.log"
# Binary files with a needle inside: both tools skip them (NUL bytes).
mkdir -p "$CORPUS/assets"
for i in $(seq 1 50); do
    { printf 'XYZZY_NEEDLE\0'; head -c 65536 /dev/urandom; } >"$CORPUS/assets/blob$i.bin"
done
# Trees both sides skip: .git (hidden for rg), node_modules and target (excluded for rg by -g).
for skip in .git/objects node_modules/lib target/debug; do
    mkdir -p "$CORPUS/$skip"
    for i in $(seq 1 300); do
        printf 'fn handle_alpha_1() {} // XYZZY_NEEDLE TODO(perf)\n' >"$CORPUS/$skip/f$i.rs"
    done
done
files=$(find "$CORPUS" -type f | wc -l)
size=$(du -sh "$CORPUS" | cut -f1)
echo "== corpus: $files files, $size" >&2

RG_SKIP=(-g '!node_modules' -g '!target')

# Median wall time in ms of "$@" (output discarded), after one warm-up run.
median_ms() {
    "$@" >/dev/null 2>&1 || true
    if command -v hyperfine >/dev/null 2>&1; then
        local json
        json=$(mktemp)
        hyperfine --runs "$RUNS" --style none --export-json "$json" -i -- "$(printf '%q ' "$@")" >/dev/null 2>&1
        awk -F: '/"median"/ { gsub(/[ ,]/, "", $2); printf "%.1f", $2 * 1000; exit }' "$json"
        rm -f "$json"
        return
    fi
    local times=() start end
    for _ in $(seq 1 "$RUNS"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=($(((end - start) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

# One row: label, the wingman tool and its JSON, then the rg command.
row() {
    local label=$1 tool=$2 json=$3
    shift 3
    local w r wn rn
    wn=$("$BIN" tool "$tool" "$json" --work-dir "$CORPUS" | grep -c -v -e '^$' -e '^(' || true)
    rn=$(cd "$CORPUS" && { "$@" || true; } | wc -l)
    w=$(median_ms "$BIN" tool "$tool" "$json" --work-dir "$CORPUS")
    r=$(cd "$CORPUS" && median_ms "$@")
    printf '| %-34s | %7s | %7s | %10s | %6s | %6s |\n' "$label" "$w" "$r" \
        "$(awk -v w="$w" -v r="$r" 'BEGIN { printf "%.2fx", (r > 0 ? w / r : 0) }')" "$wn" "$rn"
}

echo
echo "corpus: $files files, $size; median of $RUNS runs; $(nproc) cores; $(rg --version | head -1)"
echo
printf '| %-34s | %7s | %7s | %10s | %6s | %6s |\n' "search" "wingman" "rg" "wingman/rg" "hits w" "hits rg"
printf '| %-34s | %7s | %7s | %10s | %6s | %6s |\n' "" "ms" "ms" "" "" ""
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "---------" "---------" "------------" "--------" "--------"
row "grep literal, few matches" grep '{"pattern":"XYZZY_NEEDLE"}' \
    rg -n "${RG_SKIP[@]}" 'XYZZY_NEEDLE'
row "grep regex" grep '{"pattern":"\\bhandle_omega_999\\("}' \
    rg -n "${RG_SKIP[@]}" '\bhandle_omega_999\('
row "grep regex, include *.py" grep '{"pattern":"TODO\\(perf\\)","include":"*.py"}' \
    rg -n "${RG_SKIP[@]}" -g '*.py' 'TODO\(perf\)'
row "grep, no match" grep '{"pattern":"no_such_[0-9]+_thing"}' \
    rg -n "${RG_SKIP[@]}" 'no_such_[0-9]+_thing'
row "glob **/*.rs" glob '{"pattern":"**/*.rs"}' \
    rg --files "${RG_SKIP[@]}" -g '*.rs'
row "glob src/pkg1*/**/*.md" glob '{"pattern":"src/pkg1*/**/*.md"}' \
    rg --files "${RG_SKIP[@]}" -g 'src/pkg1*/**/*.md'
echo
echo "hits: output lines (wingman stops at 100 and glob prints at most 100; rg prints all)."
