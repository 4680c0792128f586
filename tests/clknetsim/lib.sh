# Sourced first by the clknetsim scripts: the simulator and every node run
# without CAP_SYS_TIME (a node whose preload failed would reach the real
# clock and be refused), as root, with the peers, stratad and a clknetsim
# build (skip, 77, without them), in a network namespace of their own (were a
# preload to fail, nothing could leave the machine either). Then
# CLKNETSIM_PATH is the build. The calling script's arguments go along.
clknetsim_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$clknetsim_here/../peers/lib.sh"
if [ "$(id -u)" -eq 0 ] && ! peers_check_nocap; then
	exec "${PEERS_NOCAP[@]}" "$0" "$@"
fi
. "$clknetsim_here/../interop/stratad_lib.sh"

need_root "to run everything without CAP_SYS_TIME"
need_peers
need_stratad
CLKNETSIM_PATH=${CLKNETSIM_PATH:-$PEERS_TOP/.peers/clknetsim}
[ -f "$CLKNETSIM_PATH/clknetsim.so" ] && [ -x "$CLKNETSIM_PATH/clknetsim" ] ||
	skip "no clknetsim build in $CLKNETSIM_PATH (see tests/peers/fetch)"
