#!/usr/bin/env bash
# tests/vm/smoke.sh: prove the VM harness end to end.
#
# Boots the strata test guest (built or reused from .vm/), then checks:
#   - boot time (printed)
#   - UDP guest -> host (the guest queries a probe server on the host's 127.0.0.1)
#   - UDP host -> guest (the host queries the guest's probe through a hostfwd port)
#   - the guest starts at the requested offset (--offset 0: measured and stepped in the guest)
#   - a +0.6 s relative step and tick +1 (+100 ppm) inside the guest are seen from
#     the host as an offset of ~0.6 s growing by ~100 ppm (above the guest's own drift)
#   - the host clock did not move (CLOCK_REALTIME - CLOCK_MONOTONIC before/after)
# Prints "N passed, M failed"; exits 1 on failure; prints "SKIP: reason" and exits 77
# when qemu cannot run here.  Runs itself inside a fresh network namespace.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

if [ "${STRATA_VM_IN_NETNS:-}" != 1 ]; then
	if ! command -v "$VM_QEMU" >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ "${STRATA_VM_NO_INSTALL:-0}" != 1 ] &&
		command -v apt-get >/dev/null 2>&1; then
		echo "smoke: installing qemu-system-x86 (--no-install-recommends)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-system-x86 >/dev/null 2>&1 ||
			echo "smoke: installing qemu-system-x86 failed"
	fi
	reason=$(vm_can_run) || skip "$reason"
	export STRATA_VM_IN_NETNS=1
	exec unshare -n -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
vm_netns_private || { echo "smoke: not in a private network namespace"; exit 1; }

work=$(mktemp -d)
trap 'vm_cleanup; rm -rf "$work"' EXIT

t0=$(date +%s%N)
vm_build
rc=$?
[ $rc -eq 3 ] && skip "the guest's Debian packages cannot be downloaded"
[ $rc -eq 0 ] || { bad "build the guest"; echo "0 passed, 1 failed"; exit 1; }
echo "smoke: guest $(sed -n 's/^kernel=//p' "$VM_GUEST_DIR/manifest"), busybox $(sed -n 's/^busybox-static=//p' "$VM_GUEST_DIR/manifest")"
echo "smoke: build/cache check took $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s, accel $(_vm_accel)"

host_before=$(vm_host_realmono)

PROBE_FWD=9125 # host 127.0.0.1:9125 -> the guest's probe (9123)
SIGNAL_FWD=9126 # host 127.0.0.1:9126 -> guest 9200, where the guest waits for the host's go
STEP=0.6
TICK=10001

cat >"$work/run" <<EOF
#!/bin/sh
# guest -> host: query the host's probe server at 198.18.0.2
echo "@@G2H begin"
guest-clock-probe query 198.18.0.2 \$VM_HOST_PROBE_PORT -n 10 -r 3 -i 0.1
echo "@@G2H end status=\$?"
echo "@@READY"
guest-clock-probe serve -p 9200 -c 1 -t 90 2>/dev/null    # the host measures the baseline
guest-clock-probe step $STEP
adjtimex -q -t $TICK
echo "@@STEPPED tick=\$(adjtimex | sed -n 's/.*tick: *\([0-9]*\).*/\1/p')"
guest-clock-probe serve -p 9200 -c 1 -t 90 2>/dev/null    # the host measures the step and drift
echo "@@DONE"
EOF

vm_start "$work/run" --timeout 150 --offset 0 --probe-port $PROBE_FWD --hostfwd $SIGNAL_FWD:9200 ||
	{ bad "start the guest"; echo "$passed passed, $failed failed"; exit 1; }

if vm_wait_console '^@@READY' 90; then
	boot=$(vm_boot_seconds)
	guest_up=$(sed -n 's/^@@VM-BEGIN uptime=\([0-9.]*\).*/\1/p' "$VM_CONSOLE_LOG")
	ok "guest booted (host wall time to /cmd/run: ${boot} s; guest uptime then: ${guest_up} s)"
else
	bad "guest did not reach its run script"
	sed 's/^/guest| /' "$VM_CONSOLE_LOG"
	vm_kill
	echo "$passed passed, $failed failed"
	exit 1
fi
sed -n 's/^@@VM-CLOCK /smoke: guest clock set-up: /p' "$VM_CONSOLE_LOG"

# guest -> host
g2h=$(sed -n '/^@@G2H begin/,/^@@G2H end/p' "$VM_CONSOLE_LOG" | tr -d '\r')
g2h_rounds=$(grep -c '^round=.*samples=' <<<"$g2h")
if grep -q '^@@G2H end status=0' <<<"$g2h" && [ "$g2h_rounds" = 3 ]; then
	ok "UDP guest -> host: 3/3 rounds answered by 198.18.0.2 ($(grep -o 'median_offset=[-0-9.]*' <<<"$g2h"), host minus guest)"
else
	bad "UDP guest -> host"
	sed 's/^/  /' <<<"$g2h"
fi

# host -> guest, baseline: 21 rounds over 20 s
vm_probe_query $PROBE_FWD -n 20 -r 21 -i 1 >"$work/base" 2>&1
base_rounds=$(grep -c '^round=.*samples=' "$work/base")
if [ "$base_rounds" = 21 ]; then
	ok "UDP host -> guest: 21/21 rounds answered through the hostfwd port"
else
	bad "UDP host -> guest: $base_rounds/21 rounds answered"
	cat "$work/base"
fi
vm_signal $SIGNAL_FWD || bad "signal the guest (baseline done)"
vm_wait_console '^@@STEPPED' 20 || bad "guest did not report its step"
sed -n 's/^@@STEPPED /smoke: guest stepped, /p' "$VM_CONSOLE_LOG"

# after the step: 21 rounds over 30 s
vm_probe_query $PROBE_FWD -n 20 -r 21 -i 1.5 >"$work/after" 2>&1
after_rounds=$(grep -c '^round=.*samples=' "$work/after")
[ "$after_rounds" = 21 ] || { bad "host -> guest after the step: $after_rounds/21 rounds"; cat "$work/after"; }
vm_signal $SIGNAL_FWD || bad "signal the guest (measurement done)"

st=0
vm_wait 30 || st=$?
if [ $st = 0 ] && grep -q '^@@DONE' "$VM_CONSOLE_LOG"; then
	ok "guest run script finished, exit status 0"
else
	bad "guest run script: status $st"
fi

# figures: least-squares line per phase (offset against host time), both from the
# minimum-delay sample of each 20-sample round
fit() { # file -> "slope_ppm intercept_at_t0 t0 t_last median p10p90_median residual_p10p90 n"
	awk '
	function isort(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x } }
	/^round=.*samples=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		n++; t[n] = v["t"]; o[n] = v["offset"]; sp[n] = v["p90"] - v["p10"]
	}
	END {
		if (n < 3) { print "nan nan nan nan nan nan nan 0"; exit }
		for (i = 1; i <= n; i++) { mt += t[i] - t[1]; mo += o[i] }
		mt /= n; mo /= n
		for (i = 1; i <= n; i++) { sxy += (t[i] - t[1] - mt) * (o[i] - mo); sxx += (t[i] - t[1] - mt) ^ 2 }
		b = sxy / sxx; a = mo - b * mt
		# medians of offsets and of the p10-p90 spreads
		for (i = 1; i <= n; i++) { so[i] = o[i]; ss[i] = sp[i] }
		# round-to-round scatter: residuals of the rounds around the line
		for (i = 1; i <= n; i++) rs[i] = o[i] - (a + b * (t[i] - t[1]))
		isort(so, n); isort(ss, n); isort(rs, n)
		printf "%.3f %.9f %.6f %.6f %.6f %.6f %.6f %d\n", b * 1e6, a, t[1], t[n], so[int((n + 1) / 2)], ss[int((n + 1) / 2)], rs[int(0.9 * (n - 1)) + 1] - rs[int(0.1 * (n - 1)) + 1], n
	}' "$1"
}
read -r b_slope b_a b_t0 _ b_med b_spread b_res b_n < <(fit "$work/base")
read -r a_slope a_a a_t0 a_tn a_med a_spread a_res a_n < <(fit "$work/after")
if [ "$b_n" -ge 3 ] && [ "$a_n" -ge 3 ]; then
	# step size: the after-line minus the baseline line, both at the first after-round
	step_meas=$(awk -v aa="$a_a" -v ba="$b_a" -v bs="$b_slope" -v bt0="$b_t0" -v at0="$a_t0" \
		'BEGIN { printf "%.6f", aa - (ba + bs * 1e-6 * (at0 - bt0)) }')
	growth=$(awk -v s="$a_slope" -v t0="$a_t0" -v tn="$a_tn" 'BEGIN { printf "%.3f", s * (tn - t0) * 1e-3 }')
	dppm=$(awk -v a="$a_slope" -v b="$b_slope" 'BEGIN { printf "%.1f", a - b }')
	echo "smoke: baseline  (20 s): guest offset median ${b_med} s, drift ${b_slope} ppm, p10-p90 within a round ${b_spread} s (median), rounds around the line p10-p90 ${b_res} s"
	echo "smoke: after step (30 s): guest offset median ${a_med} s, drift ${a_slope} ppm, grew ${growth} ms, p10-p90 within a round ${a_spread} s, rounds around the line ${a_res} s"
	echo "smoke: measured step ${step_meas} s (asked ${STEP}), frequency change ${dppm} ppm (asked 100)"
	check "guest started at the requested offset 0" "($b_med < 0.002 && $b_med > -0.002)" "baseline median ${b_med} s, |.| < 2 ms"
	check "host sees the +0.6 s step" "($step_meas - $STEP < 0.002 && $step_meas - $STEP > -0.002)" "${step_meas} s, within 2 ms"
	check "host sees offset ~0.6 s" "($a_med > 0.59 && $a_med < 0.62)" "median ${a_med} s"
	check "host sees tick +1 as +100 ppm" "($dppm > 90 && $dppm < 110)" "${dppm} ppm, 90..110"
else
	bad "not enough rounds to compute the figures"
fi

host_after=$(vm_host_realmono)
moved_us=$(awk -v a="$host_before" -v b="$host_after" 'BEGIN { printf "%.1f", (b - a) * 1e6 }')
check "host clock did not move" "($moved_us < 1000 && $moved_us > -1000)" "CLOCK_REALTIME - CLOCK_MONOTONIC changed by ${moved_us} us"

echo "smoke: total $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.0f", (b - a) / 1e9 }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
