#!/usr/bin/env bash
# Long fuzzing campaign of the file readers (tests/fuzz_readers.rs), stable toolchain only:
#   bash scripts/fuzz.sh MINUTES [CASES_PER_ROUND]
# Rounds of the property tests with many cases each (new random inputs every round), until MINUTES
# have passed, each round under an address-space cap (prlimit --as, CARE_LEDGER_FUZZ_AS_BYTES, default
# 4 GiB) and a time limit per case (CARE_LEDGER_FUZZ_CASE_SECONDS, default 20 s; a round that hangs
# is killed after 10 minutes). Prints the cases tried, the crashes (failed properties, aborts, kills)
# and the peak memory (largest resident set of a round). Each crash's output is kept under
# target/fuzz/; every crash found becomes a regression test in tests/fuzz_readers.rs.
set -u
cd "$(dirname "$0")/.."
minutes="${1:?usage: scripts/fuzz.sh MINUTES [CASES_PER_ROUND]}"
cases="${2:-500}"
as_bytes="${CARE_LEDGER_FUZZ_AS_BYTES:-4294967296}"
case_seconds="${CARE_LEDGER_FUZZ_CASE_SECONDS:-20}"
out=target/fuzz
mkdir -p "$out"

echo "building the fuzz tests (release)…"
cargo test --release --test fuzz_readers --no-run --message-format=json >"$out/build.json" 2>"$out/build.log" || {
    cat "$out/build.log"; exit 1; }
binary=$(grep -o '"executable":"[^"]*fuzz_readers[^"]*"' "$out/build.json" | tail -1 | cut -d'"' -f4)
[ -x "$binary" ] || { echo "fuzz test binary not found"; exit 1; }

deadline=$(( $(date +%s) + minutes * 60 ))
rounds=0 tried=0 crashes=0 peak_kb=0
while [ "$(date +%s)" -lt "$deadline" ]; do
    rounds=$((rounds + 1))
    count_file="$out/count-$rounds"
    log="$out/round-$rounds.log"
    echo 0 >"$count_file"
    CARE_LEDGER_FUZZ_CASES="$cases" CARE_LEDGER_FUZZ_CASE_SECONDS="$case_seconds" \
    CARE_LEDGER_FUZZ_COUNT_FILE="$count_file" \
        timeout --signal=KILL 600 /usr/bin/time -f "peak_kb=%M" -o "$out/time-$rounds" \
        prlimit --as="$as_bytes" "$binary" --test-threads=2 >"$log" 2>&1
    status=$?
    kb=$(sed -n 's/^peak_kb=//p' "$out/time-$rounds" 2>/dev/null | tail -1)
    [ -n "$kb" ] && [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
    n=$(cat "$count_file" 2>/dev/null || echo 0)
    tried=$((tried + n))
    failed=$(sed -n 's/^test result: .* \([0-9]*\) failed.*/\1/p' "$log" | tail -1)
    failed=${failed:-0}
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1 # killed, aborted or out of memory: the whole round is one crash
    fi
    if [ "$failed" -gt 0 ]; then
        crashes=$((crashes + failed))
        cp "$log" "$out/crash-round-$rounds.log"
        echo "round $rounds: $failed crash(es), exit $status — see $out/crash-round-$rounds.log"
    else
        rm -f "$log"
    fi
    echo "round $rounds: ≈$n cases, peak ${kb:-?} KB"
done
echo "fuzz campaign: $minutes min, $rounds rounds, cases tried ≈ $tried, crashes $crashes, peak memory $((peak_kb / 1024)) MiB (cap $((as_bytes / 1048576)) MiB address space, $case_seconds s per case)"
[ "$crashes" -eq 0 ]
