#!/bin/sh
# Runs each libFuzzer target for SECONDS seconds on its committed seed
# corpus (tests/fuzz/corpus/NAME) plus a working corpus in build/fuzz/.
# usage: sh tests/fuzz/run.sh SECONDS TARGET...
# Prints one line per target with its executions; exits 1 if any target
# found a crash, a leak or a timeout (the reproducer is in
# build/fuzz/artifacts/, the log in build/fuzz/NAME.log).
set -u
seconds=${1:?usage: run.sh SECONDS TARGET...}
shift
dir=build/fuzz
mkdir -p "$dir/artifacts"
failed=0 total=0
for t in "$@"; do
	mkdir -p "$dir/corpus/$t"
	log="$dir/$t.log"
	"$dir/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-dict=tests/fuzz/hostshim.dict \
		-artifact_prefix="$dir/artifacts/$t-" \
		"$dir/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	runs=${runs:-0}
	total=$((total + runs))
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $t: ok, $runs executions in ${seconds}s"
	else
		failed=1
		echo "fuzz $t: FAILED (status $rc) after $runs executions; log $log"
		grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written|#[0-9]+ +in ' "$log" | head -n 30
	fi
done
echo "fuzz total: $total executions"
exit $failed
