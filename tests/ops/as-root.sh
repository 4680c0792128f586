#!/bin/bash
# The README's quick start works in a root shell without sudo (a fresh
# Debian's) and for a user with sudo: its privileged commands go through
# tools/as-root (or tools/setup-debian, which escalates through it), which
# runs a command directly as root and through sudo otherwise. The user is
# nobody (setpriv); its sudo is a stand-in that records how it was called.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/checks.sh"
[ "$(id -u)" = 0 ] || skip "needs root to act as another user"

work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir "$work/nosudo" "$work/sudo"
for t in id sh dirname env cat; do ln -s "$(command -v $t)" "$work/nosudo/$t"; done
cp -P "$work"/nosudo/* "$work/sudo/"
cat > "$work/sudo/sudo" <<'EOF'
#!/bin/sh
echo "$*" >> "$SUDO_LOG"
[ "$1" = -- ] && shift
[ "${SUDO_RUN:-0}" = 1 ] && exec "$@"
exit 0
EOF
chmod 755 "$work/sudo/sudo"
touch "$work/sudo.log" && chmod 666 "$work/sudo.log"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env SUDO_LOG="$work/sudo.log" "$@"; }

echo "--- the README's quick start"
block=$(awk '/^## Quick start/ { on = 1 } /^## Three uses/ { on = 0 } on && /^    / { print }' "$top/README.md")
echo "$block"
check "the quick start has commands" test -n "$block"
check "no command starts with sudo (a root shell has none)" \
	bash -c "! tr '&' '\n' <<< \"\$1\" | grep -qE '^ *sudo '" _ "$block"
# (stratactl reads the status as any user: the control socket is mode 0666)
for privileged in ./src/stratad tools/test-all; do
	if grep -qF "$privileged" <<< "$block"; then
		check "$privileged goes through tools/as-root" bash -c "! grep -F '$privileged' <<< \"\$1\" | grep -vqF 'tools/as-root $privileged'" _ "$block"
	fi
done

echo "--- tools/as-root"
check "as root without sudo: runs the command itself" \
	bash -c "[ \"\$(PATH='$work/nosudo' '$top/tools/as-root' id -u)\" = 0 ]"
as_nobody env PATH="$work/sudo" SUDO_RUN=1 "$top/tools/as-root" id -u > "$work/out" 2>&1
check "as a user with sudo: sudo was asked to run it ($(cat "$work/sudo.log"))" grep -qx -- '-- id -u' "$work/sudo.log"
check "and the command ran" grep -qx 65534 "$work/out"
as_nobody env PATH="$work/nosudo" "$top/tools/as-root" id -u > "$work/out" 2>&1
status=$?
check "as a user without sudo: exit 1 ($status)" test "$status" = 1
check "and a clear message ($(cat "$work/out"))" grep -q 'needs root: run it as root, or install sudo' "$work/out"

echo "--- tools/setup-debian escalates the same way"
: > "$work/sudo.log"
as_nobody env PATH="$work/sudo" "$top/tools/setup-debian" > "$work/out" 2>&1
check "as a user: it re-runs itself through sudo ($(cat "$work/sudo.log"))" \
	grep -qx -- "-- $top/tools/setup-debian" "$work/sudo.log"
finish as-root
