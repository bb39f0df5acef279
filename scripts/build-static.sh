#!/usr/bin/env bash
# Builds wingman as one statically linked file (glibc linked in, no dynamic
# loader, no shared libraries), checks it with `file` and `ldd`, and prints its
# path and size.
#
# Usage: scripts/build-static.sh
#
# https needs no system certificate files: ureq uses rustls with the Mozilla
# roots compiled in (webpki-roots), and ring's crypto is built from source.
#
# glibc and static linking: glibc's getaddrinfo uses NSS, which in a static binary
# cannot dlopen the libnss_* modules, so the linker may warn that "Using
# 'getaddrinfo' in statically linked applications requires at runtime the shared
# libraries from the glibc version used for linking". Static glibc still resolves
# through its built-in `files` (/etc/hosts) and `dns` (/etc/resolv.conf) backends,
# which is what a server on a small machine uses; only exotic NSS setups (LDAP,
# systemd-resolved's nss module without a stub resolver, mDNS) are out of reach.
set -euo pipefail

cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-gnu

echo "== building the static release binary (target $TARGET)" >&2
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target "$TARGET"
BIN=$PWD/target/$TARGET/release/wingman

description=$(file -b "$BIN")
echo "file: $description" >&2
case $description in
*"statically linked"* | *"static-pie linked"*) ;;
*)
    echo "error: $BIN is not statically linked" >&2
    exit 1
    ;;
esac
# ldd exits non-zero for a static binary ("not a dynamic executable"); for a
# static-pie it prints "statically linked". Anything naming a .so is a failure.
ldd_out=$(ldd "$BIN" 2>&1 || true)
echo "ldd: $ldd_out" >&2
if grep -q '\.so' <<<"$ldd_out"; then
    echo "error: $BIN still needs shared libraries" >&2
    exit 1
fi
"$BIN" --version >/dev/null

size=$(stat -c %s "$BIN")
echo "$BIN"
awk -v s="$size" 'BEGIN { printf "%d bytes (%.1f MiB)\n", s, s / 1048576 }'
