#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fuzz the SIP/SDP and frame-header parsers with libFuzzer (clang + ASan + UBSan).
# Usage: tests/fuzz/run.sh [SECONDS]   (default 60). New interesting inputs are kept in
# tests/fuzz/corpus/sip_parser/; commit the small ones. Needs clang and libclang-rt-14-dev.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build-fuzz
mkdir -p "$out"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DRB_LIBFUZZER -Idataplane/include \
  tests/fuzz/sip_parser_fuzz.cc dataplane/src/sip_parser.cc dataplane/src/sip_event.cc \
  dataplane/src/packet.cc -o "$out/sip_parser_fuzz"
mkdir -p "$out/new"
"$out/sip_parser_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=5 \
  "$out/new" tests/fuzz/corpus/sip_parser
