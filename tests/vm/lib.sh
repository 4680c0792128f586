# tests/vm/lib.sh: boot the strata test guest and measure its clock.
# Source it from a bash scenario script:   . "$(dirname "$0")/lib.sh"
#
# The guest (see build-guest) is a Debian kernel + busybox initramfs booted
# directly by qemu (TCG unless the CPU shows vmx/svm).  Its clock is its own:
# everything that changes a clock here runs inside the guest.  The host clock is
# only read.
#
# Networking is qemu user-mode (slirp): the guest is 198.18.0.15/24 with no
# default route, the host's 127.0.0.1 is 198.18.0.2 to the guest, and chosen
# host UDP ports on 127.0.0.1 are forwarded into the guest.  vm_start refuses to
# run unless the current network namespace has nothing but loopback: wrap the
# whole scenario in vm_netns (or run it under `unshare -n`).
#
# Functions (all return non-zero on failure; none but skip calls exit):
#   vm_netns CMD [ARGS...]          run CMD in a fresh network namespace, only lo up
#   vm_netns_private                true if this namespace has no interface but lo
#   vm_can_run                      true if qemu can run here; else prints the reason
#   vm_build                        build/reuse the guest; sets VM_GUEST_DIR, VM_PROBE
#                                   (status 3: the Debian packages cannot be had)
#   vm_start CMD_SCRIPT [EXTRA_DIR] [OPTIONS]   boot in the background (see below)
#   vm_wait_console REGEX [TIMEOUT_S]           wait until the console shows REGEX
#   vm_wait [TIMEOUT_S]             wait for the guest to end; returns its /cmd/run status
#   vm_run CMD_SCRIPT [EXTRA_DIR] [OPTIONS]     vm_start + stream console + vm_wait
#   vm_output                       the run script's output (between the markers)
#   vm_console                      the whole serial console of the last run
#   vm_boot_seconds                 host wall time from vm_start to @@VM-BEGIN
#   vm_probe_query HOSTPORT [query options]     raw probe lines (offset = guest - host)
#   vm_probe_offset HOSTPORT [SAMPLES] [ROUNDS] print the guest's offset in seconds
#   vm_host_probe_start PORT [SECONDS]          a host probe server on 127.0.0.1:PORT
#   vm_signal HOSTPORT              release a guest waiting in
#                                   `guest-clock-probe serve -p G -c 1` (--hostfwd HOSTPORT:G)
#   vm_host_realmono                print host CLOCK_REALTIME - CLOCK_MONOTONIC (s)
#   vm_kill                         kill the running guest (only the qemu we started)
#   vm_cleanup                      kill what we started, remove the run directories
#
# The pass/fail counters of the VM scripts (run, smoke.sh): ok and bad print
# "PASS: ..." / "FAIL: ..." and count in $passed / $failed; check NAME
# AWK-CONDITION DETAIL is ok or bad by an awk condition; skip REASON prints
# "SKIP: REASON" and exits 77, the status automake and tools/test-all read as
# "skipped" (not passed).
#
# vm_start / vm_run OPTIONS:
#   --timeout S          the guest kills /cmd/run after S seconds (default 60); qemu
#                        itself is killed at S + VM_BOOT_ALLOWANCE (default 60) s
#   --hostfwd P[:G]      forward UDP 127.0.0.1:P on the host to guest port G
#                        (default 123); repeatable
#   --probe-port P       forward 127.0.0.1:P to the guest's clock probe (port 9123)
#   --rtc-base B         qemu -rtc base=B: "utc", a date "2030-01-01T00:00:00", or
#                        "+S"/"-S" seconds from now (coarse: the RTC has 1 s steps)
#   --step S             inside the guest, step its clock by S seconds (relative,
#                        ADJ_SETOFFSET) before /cmd/run starts
#   --offset S           inside the guest, measure against the host (a probe server
#                        on 127.0.0.1, started here) and step so that the guest is
#                        S seconds ahead of the host (~0.5 ms precise on an idle host)
#   --tick T             adjtimex tick (10000 nominal; +1 = +100 ppm)
#   --freq PPM           adjtimex frequency in ppm (may be fractional)
#   --memory MB          guest memory (default 256)
#
# In the guest: /cmd/run runs as root in /root with PATH=/bin (busybox), the
# probe is /bin/guest-clock-probe, files of EXTRA_DIR are at their paths (e.g.
# EXTRA_DIR/usr/sbin/stratad -> /usr/sbin/stratad).  The host is 198.18.0.2.
#
# Variables after vm_start: VM_PID (the timeout process wrapping qemu),
# VM_RUN_DIR, VM_CONSOLE_LOG, VM_START_NS.

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_ROOT=$(cd "$VM_LIB_DIR/../.." && pwd)
VM_DIR=${STRATA_VM_DIR:-$VM_ROOT/.vm}
VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
VM_BOOT_ALLOWANCE=${VM_BOOT_ALLOWANCE:-60}
VM_GUEST_PROBE_PORT=9123
VM_HOST_PROBE_PORT=${VM_HOST_PROBE_PORT:-9124}
VM_QUIET=${VM_QUIET:-0}
VM_PID=
VM_RUN_DIR=
VM_CONSOLE_LOG=
VM_START_NS=
_vm_started_pids=()
_vm_run_dirs=()
_vm_host_probe_pid=
_vm_watch_pid=

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "PASS: $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
check() { # NAME AWK-CONDITION DETAIL
	if awk "BEGIN { exit !($2) }"; then ok "$1 ($3)"; else bad "$1 ($3)"; fi
}
skip() {
	echo "SKIP: $*"
	exit 77
}

_vm_say() { printf 'vm: %s\n' "$*" >&2; }
_vm_now_ns() { date +%s%N; }

vm_netns() {
	[ $# -gt 0 ] || { _vm_say "vm_netns: no command"; return 2; }
	unshare -n -- bash -c 'ip link set lo up && exec "$@"' vm_netns "$@"
}

vm_netns_private() {
	local links
	links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vx lo)
	[ -z "$links" ] && ip -o link show lo 2>/dev/null | grep -q 'UP'
}

vm_can_run() {
	if ! command -v "$VM_QEMU" >/dev/null 2>&1; then
		echo "$VM_QEMU not found (apt-get install --no-install-recommends qemu-system-x86)"
		return 1
	fi
	if ! "$VM_QEMU" -accel help 2>/dev/null | grep -qx tcg; then
		echo "$VM_QEMU has no TCG accelerator"
		return 1
	fi
	if ! unshare -n true 2>/dev/null; then
		echo "cannot create a network namespace (unshare -n): need root or user namespaces"
		return 1
	fi
	return 0
}

_vm_accel() {
	if [ -n "${VM_ACCEL:-}" ]; then
		echo "$VM_ACCEL"
	elif grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null && [ -w /dev/kvm ]; then
		echo kvm
	else
		# /dev/kvm may exist without vmx/svm (a paravirtual kind that cannot boot
		# stock kernels): TCG then
		echo tcg
	fi
}

vm_build() {
	local dir
	dir=$("$VM_LIB_DIR/build-guest") || return $? # 3: packages unavailable
	VM_GUEST_DIR=$dir
	VM_PROBE=$dir/guest-clock-probe
	[ -e "$VM_GUEST_DIR/vmlinux" ] && [ -e "$VM_GUEST_DIR/initramfs.cpio" ] && [ -x "$VM_PROBE" ]
}

vm_host_realmono() {
	[ -n "${VM_PROBE:-}" ] || vm_build || return 1
	"$VM_PROBE" realmono
}

vm_host_probe_start() {
	local port=$1 secs=${2:-3600}
	[ -n "${VM_PROBE:-}" ] || vm_build || return 1
	vm_netns_private || { _vm_say "refusing to serve outside a private network namespace"; return 1; }
	"$VM_PROBE" serve -b 127.0.0.1 -p "$port" -t "$secs" 2>/dev/null &
	_vm_started_pids+=($!)
	sleep 0.1
	kill -0 $! 2>/dev/null
}

_vm_rtc_arg() {
	local b=$1
	case $b in
	[+-][0-9]*)
		local now
		now=$(date -u +%s)
		date -u -d "@$((now + b))" +%Y-%m-%dT%H:%M:%S
		;;
	*) echo "$b" ;;
	esac
}

vm_start() {
	local script=${1:-} extra=
	[ -n "$script" ] && [ -f "$script" ] || { _vm_say "vm_start: run script '$script' not found"; return 2; }
	shift
	if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
		extra=$1
		shift
		[ -d "$extra" ] || { _vm_say "vm_start: extra dir '$extra' not found"; return 2; }
	fi
	local timeout=60 mem=256 rtc='' step='' offset='' tick='' freq='' fwds=()
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || { _vm_say "vm_start: $1 needs a value"; return 2; }
		case $1 in
		--timeout) timeout=$2 ;;
		--hostfwd)
			local hp=${2%%:*} gp=123
			[ "$hp" != "$2" ] && gp=${2#*:}
			fwds+=("hostfwd=udp:127.0.0.1:$hp-:$gp")
			;;
		--probe-port) fwds+=("hostfwd=udp:127.0.0.1:$2-:$VM_GUEST_PROBE_PORT") ;;
		--rtc-base) rtc=$(_vm_rtc_arg "$2") ;;
		--step) step=$2 ;;
		--offset) offset=$2 ;;
		--tick) tick=$2 ;;
		--freq) freq=$(awk -v p="$2" 'BEGIN { printf "%d", p * 65536 }') ;;
		--memory) mem=$2 ;;
		*) _vm_say "vm_start: unknown option $1"; return 2 ;;
		esac
		shift 2
	done
	case $timeout in '' | *[!0-9]*) _vm_say "vm_start: bad --timeout"; return 2 ;; esac

	if ! vm_netns_private; then
		_vm_say "refusing to boot: this network namespace has interfaces besides lo; use vm_netns"
		return 1
	fi
	[ -n "${VM_GUEST_DIR:-}" ] || vm_build || return 1

	mkdir -p "$VM_DIR/runs"
	VM_RUN_DIR=$(mktemp -d "$VM_DIR/runs/run.XXXXXX") || return 1
	_vm_run_dirs+=("$VM_RUN_DIR")
	local r=$VM_RUN_DIR/root
	mkdir -p "$r/cmd"
	[ -z "$extra" ] || cp -a "$extra/." "$r/" || return 1
	cp "$script" "$r/cmd/run" && chmod 755 "$r/cmd/run"
	{
		echo "VM_TIMEOUT=$timeout"
		echo "VM_PROBE_PORT=$VM_GUEST_PROBE_PORT"
		[ -z "$step" ] || echo "VM_STEP=$step"
		[ -z "$tick" ] || echo "VM_TICK=$tick"
		[ -z "$freq" ] || echo "VM_FREQ=$freq"
		if [ -n "$offset" ]; then
			echo "VM_SET_OFFSET=$offset"
			echo "VM_HOST_PROBE_PORT=$VM_HOST_PROBE_PORT"
		fi
	} >"$r/cmd/env"
	if [ -n "$offset" ]; then
		# the guest measures itself against this server before stepping
		# (never `kill -0 0`: that is the whole process group and always succeeds)
		[ -n "${_vm_host_probe_pid:-}" ] && kill -0 "$_vm_host_probe_pid" 2>/dev/null || {
			vm_host_probe_start "$VM_HOST_PROBE_PORT" $((timeout + VM_BOOT_ALLOWANCE)) || return 1
			_vm_host_probe_pid=${_vm_started_pids[-1]}
		}
	fi
	"$VM_LIB_DIR/build-guest" --extra "$r" "$VM_RUN_DIR/run.cpio" || return 1
	cat "$VM_GUEST_DIR/initramfs.cpio" "$VM_RUN_DIR/run.cpio" >"$VM_RUN_DIR/initrd.img" || return 1

	local netdev="user,id=n0,net=198.18.0.0/24,host=198.18.0.2,restrict=off"
	local f
	for f in "${fwds[@]}"; do netdev+=",$f"; done
	local args=(
		-accel "$(_vm_accel)" -m "$mem" -smp 1
		-nodefaults -no-user-config -display none -vga none -no-reboot
		-kernel "$VM_GUEST_DIR/vmlinux" -initrd "$VM_RUN_DIR/initrd.img"
		-append "console=ttyS0 panic=-1 quiet loglevel=3 strata.guest=1"
		-chardev "file,id=con0,path=$VM_RUN_DIR/console.log" -serial chardev:con0
		-netdev "$netdev" -device virtio-net-pci,netdev=n0
		# a parallel port (0x378, IRQ 7) whose strobe the guest pulses for pps_parport
		-chardev null,id=par0 -device isa-parallel,chardev=par0
	)
	[ -z "$rtc" ] || args+=(-rtc "base=$rtc")
	VM_CONSOLE_LOG=$VM_RUN_DIR/console.log
	: >"$VM_CONSOLE_LOG"
	VM_START_NS=$(_vm_now_ns)
	timeout -k 5 $((timeout + VM_BOOT_ALLOWANCE)) "$VM_QEMU" "${args[@]}" \
		</dev/null >"$VM_RUN_DIR/qemu.log" 2>&1 &
	VM_PID=$!
	_vm_started_pids+=("$VM_PID")
	# a watcher notes when /cmd/run starts (for vm_boot_seconds) and, for vm_run,
	# streams the console; it ends with qemu
	local stream=${_vm_stream:-0} run_dir=$VM_RUN_DIR
	tail -s 0.1 -n +1 -f --pid="$VM_PID" "$VM_CONSOLE_LOG" 2>/dev/null | {
		while IFS= read -r line; do
			line=${line%$'\r'}
			case $line in @@VM-BEGIN*) [ -f "$run_dir/begin_ns" ] || _vm_now_ns >"$run_dir/begin_ns" ;; esac
			[ "$stream" != 1 ] || printf 'guest| %s\n' "$line" >&2
		done
	} &
	_vm_watch_pid=$!
	_vm_started_pids+=("$_vm_watch_pid")
	return 0
}

vm_wait_console() {
	local re=$1 secs=${2:-60} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -qE -- "$re" "$VM_CONSOLE_LOG" 2>/dev/null && return 0
		if ! kill -0 "$VM_PID" 2>/dev/null; then
			grep -qE -- "$re" "$VM_CONSOLE_LOG" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.05
	done
	return 1
}

vm_boot_seconds() {
	local line t
	line=$(grep -n -m1 '^@@VM-BEGIN' "$VM_CONSOLE_LOG" 2>/dev/null) || return 1
	[ -f "$VM_RUN_DIR/begin_ns" ] || return 1
	t=$(cat "$VM_RUN_DIR/begin_ns")
	awk -v a="$VM_START_NS" -v b="$t" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }'
}

vm_wait() {
	local secs=${1:-}
	[ -n "$VM_PID" ] || { _vm_say "vm_wait: no guest started"; return 2; }
	local i limit=$(((secs ? secs : 100000) * 20))
	for ((i = 0; i < limit; i++)); do
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$VM_PID" 2>/dev/null; then
		_vm_say "vm_wait: guest still running after ${secs}s"
		return 124
	fi
	local qstatus=0
	wait "$VM_PID" 2>/dev/null || qstatus=$?
	[ -z "${_vm_watch_pid:-}" ] || wait "$_vm_watch_pid" 2>/dev/null
	local st
	st=$(sed -n 's/^@@VM-EXIT \([0-9]*\).*/\1/p' "$VM_CONSOLE_LOG" | tail -n1)
	if [ -z "$st" ]; then
		if [ "$qstatus" = 124 ] || [ "$qstatus" = 137 ]; then
			_vm_say "guest timed out (qemu killed after its time limit)"
			return 124
		fi
		_vm_say "guest ended without @@VM-EXIT (qemu status $qstatus); see $VM_RUN_DIR"
		tail -n 20 "$VM_RUN_DIR/qemu.log" >&2
		return 125
	fi
	return "$st"
}

vm_run() {
	local _vm_stream=1
	[ "$VM_QUIET" != 1 ] || _vm_stream=0
	vm_start "$@" || return $?
	local st=0
	vm_wait || st=$?
	return "$st"
}

vm_console() { cat "$VM_CONSOLE_LOG"; }

vm_output() {
	sed -n '/^@@VM-BEGIN/,/^@@VM-EXIT/{/^@@VM-BEGIN/d;/^@@VM-EXIT/d;p}' "$VM_CONSOLE_LOG" | tr -d '\r'
}

vm_probe_query() {
	local port=$1
	shift
	[ -n "${VM_PROBE:-}" ] || vm_build || return 1
	"$VM_PROBE" query 127.0.0.1 "$port" "$@"
}

vm_probe_offset() {
	local port=$1 n=${2:-20} rounds=${3:-5} out
	out=$(vm_probe_query "$port" -n "$n" -r "$rounds" -i 0.2 -q) || return 1
	sed -n 's/^median_offset=\([-0-9.]*\) .*/\1/p' <<<"$out"
}

vm_signal() {
	# one request to a guest that waits with `guest-clock-probe serve -p G -c 1`
	# behind --hostfwd HOSTPORT:G; retried, as the guest may not listen yet
	local port=$1 i
	for i in 1 2 3 4 5; do
		vm_probe_query "$port" -n 1 -w 1000 -q >/dev/null && return 0
	done
	return 1
}

vm_kill() {
	[ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null
	return 0
}

vm_cleanup() {
	local p
	for p in "${_vm_started_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${_vm_started_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	_vm_started_pids=()
	_vm_host_probe_pid=
	if [ "${VM_KEEP:-0}" != 1 ]; then
		for p in "${_vm_run_dirs[@]}"; do
			case $p in "$VM_DIR"/runs/run.*) rm -rf "$p" ;; esac
		done
		_vm_run_dirs=()
	fi
	return 0
}
