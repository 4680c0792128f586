# tests/vm/scenarios.sh: the boots of tests/vm/run (sourced by it; uses its
# helpers: probe, track, observe, settle, check, ok, bad, marker...). Each boot_X
# starts one guest running tests/vm/guest/boot-X.sh and drives its phases.

# jget JSON KEY: one value of a flat JSON object ("" if absent)
jget() { python3 -c 'import json, sys
v = json.loads(sys.argv[1]).get(sys.argv[2])
print("" if v is None else v)' "$1" "$2" 2>/dev/null; }
# kv KEY LINE: the value of KEY=value in LINE
kv() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<" $2"; }
# logs NAME: stratad's log of phase NAME, as the guest printed it
logs() { tr -d '\r' <"$VM_CONSOLE_LOG" | sed -n "s/^@@LOG $1 //p"; }
# freq_settle CONF EXPECTED: seconds from stratad's start (CONF) to the
# report from which on its frequency stays within 10 ppm of EXPECTED
freq_settle() {
	tr -d '\r' <"$VM_CONSOLE_LOG" | awk -v conf="$1" -v want="$2" '
		$1 == "@@STARTED" && $2 == conf { sub("uptime=", "", $3); t0 = $3; on = 1; first = ""; next }
		$1 == "@@STARTED" { on = 0 }
		on && $1 == "@@FREQ" && $3 != "" { d = $3 - want; if (d > 10 || d < -10) first = ""; else if (first == "") first = $2 }
		END { if (first == "") exit 1; printf "%.1f\n", first - t0 }'
}
count_steps() { logs "$1" | grep -c 'stepped the clock'; }

boot_start() { # LETTER SCRIPT OPTIONS...
	local letter=$1 ex
	shift
	ex=$(extra_dir "$letter")
	vm_start "$here/guest/boot-$letter.sh" "$ex" --probe-port "$PROBE_PORT" \
		--hostfwd "$SIGNAL_PORT:$SIGNAL_PORT" "$@" || { bad "boot $letter: qemu did not start"; return 1; }
	wait_marker '^@@READY' 120 "boot $letter" || return 1
	say "boot $letter: guest ready (/cmd/run) $(vm_boot_seconds) s after qemu started"
}

# baseline FILE SECONDS: the guest's own drift in ppm (no daemon running)
baseline() {
	: >"$1"
	track "$1" "$2"
	slope_ppm "$1"
}

# observation windows (seconds of host time after stratad starts)
S1_WINDOW=${S1_WINDOW:-150}
S2_WINDOW=${S2_WINDOW:-150}
S3_WINDOW=${S3_WINDOW:-60}
S4_WINDOW=${S4_WINDOW:-60}

release() { vm_signal "$SIGNAL_PORT" || bad "could not release the guest (port $SIGNAL_PORT)"; }

# tracking NAME KEY: a field of the `stratactl --json tracking` taken before stopping
tracking() { jget "$(marker "TRACKING $1")" "$2"; }

boot_a() {
	local base t0 s1 s4 k st me ee fr expected kfreq drift drift_line learnt off1 off2 t1 t2 mode f1 f4 sync1 sync4
	say "=== boot A: scenarios 1 (step + slew + frequency), 4 (drift file), 5 (stratadate)"
	boot_start a --timeout 900 || return
	base=$(baseline "$work/a-base" 20)
	say "guest's own drift before any error is set: $base ppm ($(wc -l <"$work/a-base") probes over 20 s)"

	# --- scenario 1
	release
	wait_marker '^@@STARTED /etc/strata/s1' 60 "scenario 1" || return
	t0=$(now)
	say "scenario 1: $(marker SET-OFFSET)"
	observe "$work/s1" "$t0" "$S1_WINDOW"
	say "scenario 1 offsets (s since start:ms): $(offsets "$work/s1" "$t0")"
	if s1=$(settle "$work/s1" "$t0" 30); then
		ok "scenario 1: within 1 ms from $s1 s after stratad started to the end (${S1_WINDOW} s)"
	else
		bad "scenario 1: not settled within 1 ms for the last 30 s of ${S1_WINDOW} s"
		s1=999
	fi
	release
	wait_marker '^@@STOPPED s1' 60 "scenario 1" || return
	fr=$(tracking s1 frequency_ppm)
	expected=$(awk -v b="$base" 'BEGIN { printf "%.2f", -(100 + b) }')
	check "scenario 1: frequency found within 10 ppm of the error set" \
		"\"$fr\" != \"\" && ($fr - $expected) < 10 && ($expected - $fr) < 10" \
		"stratactl frequency_ppm $fr, expected $expected = -(100 tick + $base own drift)"
	check "scenario 1: exactly one step, at start-up" "$(count_steps s1) == 1 && \"$(tracking s1 steps)\" == \"1\"" \
		"log: $(logs s1 | grep -m1 'stepped the clock' | sed 's/^.*stepped/stepped/'); tracking steps=$(tracking s1 steps)"
	k=$(marker "KERNEL s1")
	st=$(kv status "$k") me=$(kv maxerror "$k") ee=$(kv esterror "$k") kfreq=$(kv freq "$k")
	check "scenario 1: kernel status synchronized, errors sane" \
		"\"$st\" != \"\" && int($st / 64) % 2 == 0 && $me < 1000000 && $ee <= $me" \
		"status=$st (STA_UNSYNC=64) maxerror=$me us esterror=$ee us freq=$(awk -v f="$kfreq" 'BEGIN { printf "%.3f", f / 65536 }') ppm"
	drift_line=$(marker "DRIFT s1")
	drift=${drift_line%% *}
	say "scenario 1: state $(tracking s1 state), drift file after stop: ${drift_line:-none}"

	# --- scenario 4
	wait_marker '^@@STARTED /etc/strata/s4' 60 "scenario 4" || return
	t0=$(now)
	wait_marker '^@@KERNEL s4-start' 30 "scenario 4" || return
	k=$(marker "KERNEL s4-start")
	kfreq=$(awk -v f="$(kv freq "$k")" 'BEGIN { printf "%.3f", f / 65536 }')
	check "scenario 4: the drift file's frequency applied at start" \
		"\"$drift\" != \"\" && ($kfreq - ($drift)) < 0.01 && (($drift) - $kfreq) < 0.01" \
		"kernel freq 1 s after start $kfreq ppm, drift file ${drift:-none} ppm (reset to 0 before)"
	observe "$work/s4" "$t0" "$S4_WINDOW"
	say "scenario 4 offsets (s since start:ms): $(offsets "$work/s4" "$t0")"
	if s4=$(settle "$work/s4" "$t0" 20); then
		ok "scenario 4: within 1 ms from $s4 s after restart to the end (${S4_WINDOW} s)"
	else
		bad "scenario 4: not settled within 1 ms for the last 20 s of ${S4_WINDOW} s"
		s4=999
	fi
	release
	wait_marker '^@@STOPPED s4' 60 "scenario 4" || return
	learnt=$(logs s4 | grep -m1 'wander .* from /var/lib/strata/drift')
	check "scenario 4: the wander learnt is saved with the frequency and started from" \
		"$(case "$drift_line" in *" wander="*) [ -n "$learnt" ] && echo 1 || echo 0 ;; *) echo 0 ;; esac)" \
		"drift file ${drift_line:-none}; log: ${learnt:-nothing}"
	# in sync: the offset within 1 ms and the frequency within 10 ppm, both to the end
	f1=$(freq_settle /etc/strata/s1.conf "$expected") || f1=999
	f4=$(freq_settle /etc/strata/s4.conf "$expected") || f4=999
	sync1=$(awk -v a="$s1" -v b="$f1" 'BEGIN { print (a > b ? a : b) }')
	sync4=$(awk -v a="$s4" -v b="$f4" 'BEGIN { print (a > b ? a : b) }')
	check "scenario 4: in sync faster than scenario 1" "$sync4 < $sync1" \
		"restart: in sync after $sync4 s (offset $s4 s, frequency $f4 s); scenario 1: after $sync1 s (offset $s1 s, frequency $f1 s)"
	check "scenario 4: no step" "$(count_steps s4) == 0 && \"$(tracking s4 steps)\" == \"0\"" \
		"stepped lines in log: $(count_steps s4), tracking steps=$(tracking s4 steps)"

	# --- scenario 5
	if ! vm_wait_console '^@@(DATE -b begin|NO-STRATADATE)' 60 || grep -q '^@@NO-STRATADATE' "$VM_CONSOLE_LOG"; then
		skipped=$((skipped + 1))
		echo "SKIP: scenario 5: no stratadate in $GUEST_BUILD_DIR/src (build it first)"
		return
	fi
	for mode in -b -B; do
		wait_marker "^@@DATE $mode end" 60 "scenario 5 ($mode)" || return
		read -r t1 off1 < <(probe)
		sleep 4 # the thing measured: the offset's change over 4 s (a slew shows as drift)
		read -r t2 off2 < <(probe)
		say "scenario 5: stratadate $mode: $(marker "DATE $mode out")"
		say "scenario 5: stratadate $mode: offset after it $off1 s, 4 s later $off2 s ($(marker SET-OFFSET))"
		if [ "$mode" = -b ]; then
			check "scenario 5: stratadate -b steps 0.2 s away" \
				"($off1 < 0.001 && $off1 > -0.001) && ($off2 < 0.001 && $off2 > -0.001)" \
				"offset $off1 s, then $off2 s"
		else
			check "scenario 5: stratadate -B slews (not stepped, shrinking at <= 500 ppm)" \
				"$off1 > 0.15 && $off2 < $off1 - 0.0005 && ($off1 - $off2) / ($t2 - $t1) < 0.00055" \
				"offset $off1 s, then $off2 s: $(awk -v a="$off1" -v b="$off2" -v t="$t1" -v u="$t2" 'BEGIN { printf "%.0f", (a - b) / (u - t) * 1e6 }') ppm"
		fi
		release
	done
}

boot_b() {
	local base t0 s2 rate off
	say "=== boot B: scenarios 2 (slew only) and 3 (panic threshold)"
	boot_start b --timeout 900 || return
	base=$(baseline "$work/b-base" 12)
	say "guest's own drift: $base ppm"

	# --- scenario 2
	release
	wait_marker '^@@STARTED /etc/strata/s2' 60 "scenario 2" || return
	t0=$(now)
	say "scenario 2: $(marker SET-OFFSET)"
	observe "$work/s2" "$t0" "$S2_WINDOW"
	say "scenario 2 offsets (s since start:ms): $(offsets "$work/s2" "$t0")"
	if s2=$(settle "$work/s2" "$t0" 20); then
		ok "scenario 2: within 1 ms from $s2 s after stratad started to the end (${S2_WINDOW} s)"
	else
		bad "scenario 2: not settled within 1 ms for the last 20 s of ${S2_WINDOW} s"
	fi
	# the fastest slew over any 20 s, against the host; the guest's own drift (its
	# 12 s estimate is itself only good to a few ppm) adds to or takes from it,
	# and the allowance covers what the probes' ~0.1 ms scatter leaves in a fit
	rate=$(fastest_slope_ppm "$work/s2" 20)
	check "scenario 2: slewed no faster than the kernel's 500 ppm" "$rate <= 500 + ($base < 0 ? 0 - $base : $base) + 20" \
		"fastest rate over 20 s $rate ppm (own drift $base ppm, probe noise allowance 20 ppm)"
	release
	wait_marker '^@@STOPPED s2' 60 "scenario 2" || return
	# what besides the kernel's slew moved the clock: stratad's frequency
	say "scenario 2: stratad's frequency while slewing (uptime:ppm): $(tr -d '\r' <"$VM_CONSOLE_LOG" |
		awk '$1 == "@@STARTED" { on = ($2 == "/etc/strata/s2.conf") } on && $1 == "@@FREQ" && n++ < 12 { printf "%s:%.1f ", $2, $3 }')"
	check "scenario 2: never stepped" "$(count_steps s2) == 0 && \"$(tracking s2 steps)\" == \"0\"" \
		"stepped lines in log: $(count_steps s2), tracking steps=$(tracking s2 steps)"

	# --- scenario 3a: the guard refuses
	wait_marker '^@@STARTED /etc/strata/s3a' 60 "scenario 3" || return
	t0=$(now)
	say "scenario 3: $(marker SET-OFFSET)"
	sleep 25 # the thing tested: 25 s in which stratad must not touch the clock
	: >"$work/s3a"
	track "$work/s3a" 6
	off=$(awk '{ o = $2 } END { print o }' "$work/s3a")
	check "scenario 3: 2000 s off with the default panic threshold: clock not touched" \
		"($off - 2000) < 0.005 && (2000 - $off) < 0.005" "offset $off s, $(since "$t0") s after stratad started"
	release
	wait_marker '^@@STOPPED s3a' 60 "scenario 3" || return
	check "scenario 3: status says why" \
		"\"$(tracking s3a unsync_reason)\" ~ /insane/ && \"$(tracking s3a steps)\" == \"0\"" \
		"stratactl tracking: state $(tracking s3a state), reason \"$(tracking s3a unsync_reason)\", insane_offset $(tracking s3a insane_offset)"
	check "scenario 3: the log says why" "$(logs s3a | grep -c 'insane time') >= 1" \
		"$(logs s3a | grep -m1 'insane time' | cut -c1-200)"
	k=$(marker "KERNEL s3a")
	check "scenario 3: kernel still unsynchronized" "int($(kv status "$k") / 64) % 2 == 1" "status=$(kv status "$k")"

	# --- scenario 3b: allowed once
	wait_marker '^@@STARTED /etc/strata/s3b' 60 "scenario 3 (-g)" || return
	t0=$(now)
	observe "$work/s3b" "$t0" "$S3_WINDOW"
	say "scenario 3 (allowed) offsets (s since start:ms): $(offsets "$work/s3b" "$t0")"
	if s3=$(settle "$work/s3b" "$t0" 20); then
		ok "scenario 3: with allow_initial_insane_step, within 1 ms from $s3 s after start"
	else
		bad "scenario 3: with allow_initial_insane_step, not settled within 1 ms for the last 20 s of ${S3_WINDOW} s"
	fi
	release
	wait_marker '^@@STOPPED s3b' 60 "scenario 3 (-g)" || return
	check "scenario 3: with allow_initial_insane_step, one step" "$(count_steps s3b) == 1" \
		"$(logs s3b | grep -m1 'stepped the clock' | sed 's/^.*stepped/stepped/'); tracking steps=$(tracking s3b steps)"
}

# the leap chain: chronyd local stratum 10 under faketime, and a second
# chronyd synchronized to it that knows the leap seconds from right/UTC (a
# chronyd in local mode announces none); both keep the same fake offset
start_leap_servers() {
	local fake=$1 dir
	start_chronyd_server "$LEAP_UP_PORT" "${fake}s" >/dev/null || return 1
	dir=$(peers_tmpdir chronyd-leap) || return 1
	cat >"$dir/chrony.conf" <<EOF
port $LEAP_PORT
bindaddress 127.0.0.1
server 127.0.0.1 port $LEAP_UP_PORT iburst minpoll -2 maxpoll -2
leapsectz right/UTC
allow 127.0.0.0/8
cmdport 0
pidfile $dir/chronyd.pid
driftfile $dir/drift
EOF
	_peers_chronyd "$dir" "${fake}s" >/dev/null || return 1
	peers_wait_answer 127.0.0.1 "$LEAP_PORT" 20 'leap=1 ' || { cat "$dir/chronyd.log"; return 1; }
}

boot_c() {
	local target fake rtc ins k
	say "=== boot C: scenario 6 (leap second)"
	target=$(date -u -d '2016-12-31 23:50:00' +%s)
	fake=$((target - $(date +%s)))
	start_leap_servers "$fake" >"$work/leap-servers" ||
		{ bad "scenario 6: chronyd announcing the leap second"; cat "$work/leap-servers"; return; }
	say "scenario 6: chronyd on 127.0.0.1:$LEAP_PORT (faketime ${fake}s, right/UTC): $(tail -n1 "$work/leap-servers" | cut -d' ' -f1-4)"
	# the guest starts a few seconds after the server's fake time: stepped at start
	rtc=$(date -u -d "@$(($(date +%s) + fake + 3))" +%Y-%m-%dT%H:%M:%S)
	boot_start c --timeout 300 --rtc-base "$rtc" || return
	say "scenario 6: guest clock at /cmd/run: $(marker READY)"
	wait_marker '^@@END' 200 "scenario 6" || return
	ins=$(marker INS)
	check "scenario 6: guest kernel shows STA_INS before midnight UTC of 2016-12-31" \
		"\"$ins\" ~ /^2016-12-31T23:5/" "${ins:-never}"
	k=$(marker "KERNEL s6")
	say "scenario 6: kernel $k; tracking leap \"$(tracking s6 leap)\", state $(tracking s6 state)"
	say "scenario 6: log: $(logs s6 | grep -E 'stepped|synchronized' | head -n 3 | tr '\n' ';')"
}

# leapwatch NAME: the guest's clock across midnight in phase NAME, as
# guest-clock-probe leapwatch printed it ("LABEL.MS STATE REALMONO
# REALRAW" lines, then "END polls=... oop=... back=... fwd=...")
leapwatch() {
	tr -d '\r' <"$VM_CONSOLE_LOG" | awk -v phase="$1" '
		$1 == "@@PHASE" { on = ($2 == phase); next }
		on && $1 == "@@LEAPWATCH" { sub("state=", "", $3); sub("realmono=", "", $4); sub("realraw=", "", $5); print $2, $3, $4, $5 }
		on && $1 == "@@LEAPWATCH-END" { print "END", $2, $3, $4, $5; on = 0 }'
}

# the guest clock's seconds across midnight, compactly
leap_seconds_shown() { leapwatch "$1" | awk '$1 != "END" { sub("^2016-12-3", "", $1); sub("^2017-01-0", "", $1); printf "%s%s(%s)", (n++ ? " " : ""), substr($1, 3, 8), $2 } END { print "" }'; }

boot_d() {
	local mode target fake pid w oop back fwd slewed shown
	say "=== boot D: scenarios 7-10 (leap_mode system, step, slew, ignore: the guest's clock across 2016-12-31 23:59:60)"
	boot_start d --timeout 400 || return
	for mode in system step slew ignore; do
		# the server's clock at 23:59:50; the guest sets its own to it when released
		target=$(date -u -d '2016-12-31 23:59:50' +%s)
		fake=$((target - $(date +%s)))
		pid=$(start_chronyd_server "$LEAP_MODE_PORT" "${fake}s") ||
			{ bad "leap_mode $mode: chronyd under faketime on 127.0.0.1:$LEAP_MODE_PORT"; return; }
		release
		wait_marker "^@@STOPPED leap-$mode" 90 "leap_mode $mode" || return
		peers_stop "$pid"
		w=$(leapwatch "leap-$mode" | tail -n1)
		oop=$(kv oop "$w") back=$(kv back "$w") fwd=$(kv fwd "$w")
		shown=$(leap_seconds_shown "leap-$mode")
		say "leap_mode $mode: the guest's clock (second shown, kernel state): $shown"
		say "leap_mode $mode: stratad: $(logs "leap-$mode" | grep -m2 -E 'leap second (inserted|:)' | sed 's/^.*leap second/leap second/' | tr '\n' ';')"
		case $mode in
		system)
			check "scenario 7: leap_mode system: the guest kernel shows 23:59:60 (TIME_OOP), announced from the list" \
				"$oop == 1 && $back <= -0.999 && $back >= -1.001" \
				"23:59:60 seen: $oop; largest fall of realtime - monotonic between 10 ms polls: $back s"
			check "scenario 7: the kernel had STA_INS (TIME_INS) before midnight" \
				"$(leapwatch leap-system | grep -c '^2016-12-31T23:59:5[0-9].* INS ') >= 1" "$(leapwatch leap-system | grep -m1 ' INS ')"
			;;
		step)
			# the guest started 60 ms ahead: stratad's slew of it still runs at
			# midnight, and must neither join the step nor be lost
			check "scenario 8: leap_mode step: stratad steps back exactly one second at midnight, the kernel inserts nothing" \
				"$oop == 0 && $back <= -0.99 && $back >= -1.01 && $(logs leap-step | grep -c 'stepped the clock by one second; the slew of -0\.0[3-6][0-9]* s runs on$') == 1" \
				"23:59:60 seen: $oop; fall of realtime - monotonic $back s; $(logs leap-step | grep -m1 -o 'stepped the clock by one second.*'); before it, onto the server: $(marker ONTO), then $(marker AHEAD)"
			# from the step on (the clock reads 00:00:00 a moment before it)
			slewed=$(leapwatch leap-step | awk '$1 ~ /^2016/ { first = "" } $1 ~ /^2017/ { if (first == "") first = $4; last = $4 } END { printf "%.6f", last - first }')
			check "scenario 8: the slew runs on after the step (~500 us/s for ~5 s)" \
				"$slewed <= -0.0015 && $slewed >= -0.004" "realtime - monotonic_raw moved $slewed s from the step to the end of the watch"
			# the kernel's step marks the clock unsynchronized: stratad says again it is not
			check "scenario 8: the kernel still shows the clock synchronized after the step (never TIME_ERROR)" \
				"$(leapwatch leap-step | grep -c ' ERROR ') == 0" "$(leapwatch leap-step | grep -m1 ' ERROR ')"
			;;
		slew)
			# after midnight the slew takes 500 us each second: realtime - monotonic_raw
			# falls steadily (CLOCK_MONOTONIC is slewed with CLOCK_REALTIME)
			slewed=$(leapwatch leap-slew | awk '$1 ~ /^2017/ { if (first == "") first = $4; last = $4 } END { printf "%.6f", last - first }')
			check "scenario 9: leap_mode slew: the guest clock never repeats or skips a second" \
				"$oop == 0 && $back >= -0.001 && $fwd <= 0.001 && $(leapwatch leap-slew | awk '$1 != "END" { if ($1 <= prev) bad++; prev = $1 } END { print bad + 0 }') == 0" \
				"23:59:60 seen: $oop; realtime - monotonic between 10 ms polls moved within [$back, $fwd] s"
			check "scenario 9: the second is being slewed from midnight on (~500 us/s)" \
				"$slewed <= -0.002" "realtime - monotonic_raw moved $slewed s from 00:00:00 to the end of the watch"
			;;
		ignore)
			# the leap is known (logged) and nothing is done about it: the kernel is
			# never told, the clock runs straight on (later polls correct it as any error)
			check "scenario 10: leap_mode ignore: the kernel never has STA_INS, the clock neither repeats nor steps" \
				"$oop == 0 && $back >= -0.001 && $fwd <= 0.001 && $(leapwatch leap-ignore | grep -c ' INS ') == 0 && $(leapwatch leap-ignore | awk '$1 != "END" { if ($1 <= prev) bad++; prev = $1 } END { print bad + 0 }') == 0" \
				"23:59:60 seen: $oop; INS states: $(leapwatch leap-ignore | grep -c ' INS '); realtime - monotonic moved within [$back, $fwd] s"
			check "scenario 10: stratad knew the leap from the list and left it alone" \
				"$(logs leap-ignore | grep -c 'announced by the leap table; leap_mode ignore') >= 1 && $(logs leap-ignore | grep -c 'leap second inserted at [0-9]* (leap_mode ignore)$') == 1" \
				"$(logs leap-ignore | grep -m1 -o 'leap second inserted at.*')"
			;;
		esac
	done
	wait_marker '^@@END' 30 "boot D" || return
}

# PPS_OFFSET: the refclock offset of boot-e.sh; the guest's clock is to run
# that far ahead of the pulses, which arrive late by the trip host -> guest
PPS_OFFSET=0.005
S11_WINDOW=${S11_WINDOW:-150}

boot_e() {
	local t0 ticks rtt expected s11 src tick_pid
	say "=== boot E: scenario 11 (a PPS refclock through the kernel's pps_parport driver, pulses at the host's seconds)"
	boot_start e --timeout 400 --hostfwd "$PULSE_PORT:9201" || return
	say "boot e: $(marker PPS)"
	# one datagram at each of the host's whole seconds, each turned into a pulse
	"$VM_PROBE" tick 127.0.0.1 "$PULSE_PORT" $((S11_WINDOW + 40)) >"$work/ticks" 2>&1 &
	tick_pid=$!
	_vm_started_pids+=("$tick_pid")
	release
	wait_marker '^@@STARTED /etc/strata/pps' 60 "scenario 11" || return
	t0=$(now)
	observe "$work/s11" "$t0" "$S11_WINDOW"
	release
	wait_marker '^@@STOPPED pps' 60 "scenario 11" || return
	wait "$tick_pid"
	ticks=$(grep '^@@TICKS' "$work/ticks")
	rtt=$(kv rtt_median "$ticks")
	expected=$(awk -v o="$PPS_OFFSET" -v r="${rtt:-0}" 'BEGIN { printf "%.6f", o - r / 2 }')
	say "scenario 11: host ticks: ${ticks#@@TICKS }; the guest's last assert edge $(marker PPS-ASSERT)"
	say "scenario 11 offsets (s since start:ms): $(offsets "$work/s11" "$t0")"
	awk -v e="$expected" '{ print $1, $2 - e }' "$work/s11" >"$work/s11-pps"
	if s11=$(settle "$work/s11-pps" "$t0" 30); then
		ok "scenario 11: the guest's clock on the pulses within 1 ms from $s11 s to the end (${S11_WINDOW} s; expected offset $expected s = refclock offset $PPS_OFFSET - half the pulse's round trip $rtt)"
	else
		bad "scenario 11: not within 1 ms of the pulses (expected offset $expected s) for the last 30 s of ${S11_WINDOW} s"
	fi
	src=$(marker "SOURCES pps")
	check "scenario 11: the PPS refclock selected, stratad at stratum 1 with reference PPS" \
		"$(python3 -c 'import json, sys
s = json.loads(sys.argv[1])
print(sum(1 for x in s if x.get("refid") == "PPS" and x.get("state") == "system peer"))' "$src" 2>/dev/null || echo 0) == 1 && \"$(tracking pps reference_id)\" == \"PPS\" && \"$(tracking pps stratum)\" == \"1\"" \
		"tracking: reference $(tracking pps reference_id), stratum $(tracking pps stratum); sources: $(python3 -c 'import json, sys
print("; ".join("%s %s" % (x.get("name"), x.get("state")) for x in json.loads(sys.argv[1])))' "$src" 2>/dev/null)"
}
