# tests/serve/nts_lib.sh - what the NTS server tests share, sourced after
# tests/interop/lib.sh: a CA and a server certificate for localhost and
# 127.0.0.1 made with certtool (nothing from the host's trust store), and
# stratad serving its local clock with serve.nts on 127.0.0.1.

command -v certtool >/dev/null || skip "no certtool (apt-get install gnutls-bin)"
stratad=$STRATA_BUILD/src/stratad
stratactl=$STRATA_BUILD/src/stratactl
[ -x "$stratad" ] || skip "no $stratad"

# nts_make_pki DIR: DIR/ca.pem signs DIR/server.pem (key DIR/server.key).
nts_make_pki() {
	local dir=$1
	mkdir -p "$dir"
	printf 'cn = "strata test CA"\nca\ncert_signing_key\nexpiration_days = 2\n' >"$dir/ca.tmpl"
	printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n' >"$dir/server.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$dir/ca.key" 2>/dev/null &&
		certtool --generate-self-signed --load-privkey "$dir/ca.key" --template "$dir/ca.tmpl" \
			--outfile "$dir/ca.pem" 2>/dev/null &&
		certtool --generate-privkey --key-type=ecdsa --outfile "$dir/server.key" 2>/dev/null &&
		certtool --generate-certificate --load-privkey "$dir/server.key" --load-ca-certificate "$dir/ca.pem" \
			--load-ca-privkey "$dir/ca.key" --template "$dir/server.tmpl" --outfile "$dir/server.pem" 2>/dev/null
}

# nts_write_conf FILE EXTRA_NTS_SETTINGS [EXTRA_SERVE_SETTINGS]: stratad
# serving its local clock at stratum 10 with NTS on 127.0.0.1;
# its master keys in $workdir/state (created by stratad, owned by nobody).
nts_write_conf() {
	cat >"$1" <<CONF
sources = ();
clock = { adjust = false; local_stratum = 10; driftfile = "$workdir/drift"; };
serve = { listen = [ "127.0.0.1" ]; ${3:-}
  nts = { certificate = "$workdir/pki/server.pem"; key = "$workdir/pki/server.key";
          nts_server_keys_file = "$workdir/state/nts-server-keys"; ${2:-} }; };
control = { socket = "$workdir/stratad.sock"; };
pidfile = "$workdir/stratad.pid";
user = "nobody";
log = { syslog = false; };
CONF
}

# nts_start_stratad CONF LOG [SOCKET]: echoes the PID to stop; returns
# once the control socket (default $workdir/stratad.sock) is there.
nts_start_stratad() {
	local pid sock=${3:-$workdir/stratad.sock}
	rm -f "$sock"
	pid=$(peers_spawn "$2" "${PEERS_NOCAP[@]}" "$stratad" -c "$1" -n -x)
	wait_for 10 test -S "$sock" || { cat "$2" >&2; return 1; }
	echo "$pid"
}

# nts_stat NAME [SOCKET]: one counter of stratactl serverstats --json.
nts_stat() {
	"$stratactl" -s "${2:-$workdir/stratad.sock}" --json serverstats |
		sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"
}
