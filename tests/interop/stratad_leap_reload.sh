#!/bin/bash
# SIGHUP reads the leap tables again, as after a tzdata update: stratad -x,
# without CAP_SYS_TIME, in its own network namespace, with no sources (the
# leap table alone is looked at). The lists are written here, dated from
# today, their #h SHA-1 computed by Python's hashlib:
#  - started with an expired leap-seconds.list: the log says it is not used,
#    stratactl tracking says expired;
#  - the file replaced by one valid for 200 days more, with a leap at the
#    end of next month: after the reload tracking (text and JSON) shows the
#    new expiry and that leap, the log what was loaded;
#  - leap_mode system -> step by a reload: applied, no restart asked for;
#  - a damaged file (wrong SHA-1) and a missing one: the reload is refused,
#    the log names the file and the reason, and tracking still shows the
#    running table and leap_mode;
#  - a leapsectz by a reload: not read (reading a zone sets TZ for the whole
#    process), the log says it waits for the next start;
#  - started with leapsectz = "right/UTC" and the list expired: the zone
#    decides, and a reload keeps it;
#  - serving a smear, kept until a restart: leap_mode slew (which a smear
#    refuses) is refused by a reload.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
conf="$workdir/stratad.conf"
list="$workdir/leap-seconds.list"
# write_conf CLOCK_SETTINGS
write_conf() {
	cat > "$conf.new" <<-EOC
		clock = { driftfile = ""; $1 };
		control = { socket = "$workdir/run/stratad.sock"; };
		pidfile = "";
		user = "nobody";
	EOC
	mv "$conf.new" "$conf"
}
# write_list expired|valid|leap|damaged FILE: tzdata's leap seconds to 2017;
# expired 30 days ago, or valid 200 days on, with a leap second inserted at
# the end of next month (leap); damaged: valid, one digit changed after the
# hash was computed.
write_list() {
	python3 - "$1" "$2.new" <<-'EOP' && mv "$2.new" "$2"
		import calendar, datetime, hashlib, sys, time
		kind, out = sys.argv[1], sys.argv[2]
		NTP = 2208988800
		leaps = [(1972, 7), (1973, 1), (1974, 1), (1975, 1), (1976, 1), (1977, 1), (1978, 1), (1979, 1),
		         (1980, 1), (1981, 7), (1982, 7), (1983, 7), (1985, 7), (1988, 1), (1990, 1), (1991, 1),
		         (1992, 7), (1993, 7), (1994, 7), (1996, 1), (1997, 7), (1999, 1), (2006, 1), (2009, 1),
		         (2012, 7), (2015, 7), (2017, 1)]
		def midnight(y, m, d=1):
		    return calendar.timegm((y, m, d, 0, 0, 0)) + NTP
		today = datetime.datetime.now(datetime.timezone.utc).date()
		data = [(midnight(1972, 1), 10)] + [(midnight(y, m), 11 + i) for i, (y, m) in enumerate(leaps)]
		if kind == "leap":
		    y, m = (today.year, today.month + 2) if today.month <= 10 else (today.year + 1, today.month - 10)
		    data.append((midnight(y, m), 38))
		base = midnight(today.year, today.month, today.day)
		expires = base - 30 * 86400 if kind == "expired" else base + 200 * 86400
		updated = base - 400 * 86400
		h = hashlib.sha1(("%d%d" % (updated, expires) + "".join("%d%d" % e for e in data)).encode()).hexdigest()
		with open(out, "w") as f:
		    f.write("# written by stratad_leap_reload.sh (%s)\n#$\t%d\n#@\t%d\n" % (kind, updated, expires))
		    for ntp, tai in data:
		        f.write("%d\t%d\t# %s\n" % (ntp, tai, time.strftime("%d %b %Y", time.gmtime(ntp - NTP))))
		    f.write("#h\t" + " ".join(h[i:i + 8] for i in range(0, 40, 8)) + "\n")
		if kind == "damaged":
		    text = open(out).read().replace("#$\t%d" % updated, "#$\t%d" % (updated + 86400), 1)
		    open(out, "w").write(text)
	EOP
}
logged() { grep -qF -- "$1" "$workdir/stratad.log"; }
not() { ! "$@"; }
tracking_says() { ctl tracking | grep -qxF "$1"; }
json_field() { ctl --json tracking | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
date_of() { date -u -d "@$1" +%F; }
today=$(date -u +%F)
expired_on=$(date -u -d "$today 30 days ago" +%F)
valid_until=$(date -u -d "$today 200 days" +%F)
next_month_end=$(date -u -d "$(date -u -d "$today" +%Y-%m-01) 2 months 1 day ago" +%F)

echo "--- started with an expired list"
write_list expired "$list"
write_conf "leapsecond_list = \"$list\";"
start_stratad "$conf"
check "stratactl answers" wait_for 10 ctl tracking
check "the log says the list expired and is not used" logged "$list expired 30 days ago: not used"
check "tracking: expired on $expired_on, not used" \
	tracking_says "Leap table      : expired $expired_on: not used (leap seconds from the sources)"
check "tracking: no next leap from it" tracking_says "Next leap       : -"
check "tracking: leap_mode system" tracking_says "Leap mode       : system"

echo "--- tzdata updated: a valid list with a leap at the end of next month"
write_list leap "$list"
check "reloaded" sighup_reloaded
check "the log says what was loaded" \
	logged "leap seconds from $list: table valid until $valid_until, next leap insert second at the end of $next_month_end, leap_mode system"
check "tracking: valid until $valid_until" tracking_says "Leap table      : valid until $valid_until"
check "tracking: the leap at the end of $next_month_end" \
	tracking_says "Next leap       : insert second at the end of $next_month_end"
check "JSON: leap_table valid" test "$(json_field leap_table)" = valid
check "JSON: leap_table_expires on $valid_until" test "$(date_of "$(json_field leap_table_expires)")" = "$valid_until"
check "JSON: next_leap the midnight after $next_month_end" \
	test "$(date_of "$(($(json_field next_leap) - 1))")" = "$next_month_end"
check "JSON: next_leap_status insert second" test "$(json_field next_leap_status)" = "insert second"
check "no restart asked for" not logged "take effect at the next start"

echo "--- leap_mode step by a reload"
write_conf "leapsecond_list = \"$list\"; leap_mode = \"step\";"
check "reloaded" sighup_reloaded
check "tracking: leap_mode step" tracking_says "Leap mode       : step"
check "JSON: leap_mode step" test "$(json_field leap_mode)" = step
check "the log says it" logged "next leap insert second at the end of $next_month_end, leap_mode step"
check "no restart asked for" not logged "take effect at the next start"

echo "--- a damaged list: refused, the running table kept"
write_list damaged "$list"
check "reload refused" sighup_refused
check "the log names the file and the reason" \
	logged "configuration not reloaded, keeping the running one and its leap tables: $conf:1: clock.leapsecond_list: $list: the #h SHA-1 does not match the contents"
check "tracking: still the table read before" tracking_says "Leap table      : valid until $valid_until"
check "tracking: still its leap" tracking_says "Next leap       : insert second at the end of $next_month_end"

echo "--- a missing list, with leap_mode slew: refused, leap_mode kept"
write_conf "leapsecond_list = \"$workdir/none.list\"; leap_mode = \"slew\";"
check "reload refused" sighup_refused
check "the log names the file and the reason" \
	logged "clock.leapsecond_list: $workdir/none.list: No such file or directory"
check "tracking: leap_mode still step" tracking_says "Leap mode       : step"
check "tracking: still the table read before" tracking_says "Leap table      : valid until $valid_until"

echo "--- the damaged list named in a drop-in: the drop-in's file and line"
mkdir -p "$workdir/conf.d"
printf '# leap seconds\n\nclock = { driftfile = ""; leapsecond_list = "%s"; };\n' "$list" > "$workdir/conf.d/50-leap.conf"
cat > "$conf" <<EOC
@include "$workdir/conf.d"
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
check "reload refused" sighup_refused
check "the log names the drop-in, its line and the reason" \
	logged "keeping the running one and its leap tables: $workdir/conf.d/50-leap.conf:3: clock.leapsecond_list: $list: the #h SHA-1 does not match the contents"
rm -r "$workdir/conf.d"

echo "--- a zone by a reload: read only at start (TZ is process-wide), so it waits for a restart"
write_list valid "$list"
write_conf "leapsecond_list = \"$list\"; leapsectz = \"Etc/UTC\";"
check "reloaded" sighup_reloaded
check "the log says the zone waits for the next start" \
	logged "reloaded; these changes take effect at the next start: clock.leapsectz"
check "not read: no complaint that Etc/UTC has no leap seconds" not logged "time zone Etc/UTC has no leap seconds"
check "tracking: the new list applied" tracking_says "Leap table      : valid until $valid_until"

echo "--- started with the list expired and right/UTC: the zone decides, and stays through a reload"
if [ -r /usr/share/zoneinfo/right/UTC ]; then
	kill -TERM "$STRATAD_PID" && wait "$STRATAD_PID"
	: > "$workdir/stratad.log"
	reloads=0
	write_list expired "$list"
	write_conf "leapsecond_list = \"$list\"; leapsectz = \"right/UTC\";"
	start_stratad "$conf"
	check "stratactl answers" wait_for 10 ctl tracking
	check "the log says the list is not used, right/UTC is" \
		logged "$list expired 30 days ago: not used (update tzdata); leap seconds come from right/UTC"
	check "tracking: the zone's table" tracking_says "Leap table      : valid (a time zone: no expiry)"
	check "JSON: leap_table_expires null" test "$(json_field leap_table_expires)" = None
	write_conf "leapsecond_list = \"$list\"; leapsectz = \"right/UTC\"; leap_mode = \"step\";"
	check "reloaded" sighup_reloaded
	check "tracking: still the zone's table" tracking_says "Leap table      : valid (a time zone: no expiry)"
	check "tracking: leap_mode step" tracking_says "Leap mode       : step"
else
	echo "SKIP: no /usr/share/zoneinfo/right/UTC (tzdata's right/ zones)"
fi
check "stratad still runs" kill -0 "$STRATAD_PID"

echo "--- serving a smear (restart-only): leap_mode slew, which a smear refuses, is refused by a reload"
kill -TERM "$STRATAD_PID" && wait "$STRATAD_PID"
: > "$workdir/stratad.log"
refusals=0
write_list leap "$list"
write_conf "leapsecond_list = \"$list\"; };
serve = { listen = [ \"127.0.0.1\" ]; leap_smear = \"quadratic\";"
start_stratad "$conf"
check "stratactl answers" wait_for 10 ctl tracking
write_conf "leapsecond_list = \"$list\"; leap_mode = \"slew\"; };
serve = { listen = [ \"127.0.0.1\" ];"
check "reload refused" sighup_refused
check "the log says why" logged "clock.leap_mode slew: the running serve.leap_smear (changed only by a restart) needs system, step or ignore"
check "tracking: leap_mode still system" tracking_says "Leap mode       : system"
finish
