# tests/checks.sh - the pass/fail counters every test script shares: source it,
# call check (or ok/not_ok) per assertion, and end with finish, which prints
# "N passed, M failed" and fails when anything did.

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# finish [NAME]: the summary line, prefixed "NAME: " when given.
finish() {
	echo "${1:+$1: }$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
# wait_for SECONDS COMMAND...: true as soon as the command succeeds, tried
# every 0.2 s; false if it still fails after SECONDS. Tests synchronise on a
# condition with it, never on a fixed sleep.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
skip() {
	echo "SKIP: $*"
	echo "0 passed, 0 failed"
	exit 77
}
