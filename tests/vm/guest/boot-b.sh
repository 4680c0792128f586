#!/bin/sh
# Boot B: scenario 2 (0.05 s off: slewed, never stepped) and scenario 3
# (2000 s off: refused by the panic guard; stepped once when allowed).
. /etc/strata-vm/lib.sh
echo "@@READY"
wait_host 120                 # the host measured the guest's own drift
set_offset 0.05
start_stratad "$(conf s2)"
wait_host 400
stop_stratad s2

rm -f /var/lib/strata/drift
adjtimex -f 0 >/dev/null
set_offset 2000
start_stratad "$(conf s3a)"
wait_host 120
stop_stratad s3a

rm -f /var/lib/strata/drift
start_stratad "$(conf s3b 'allow_initial_insane_step = true;')"
wait_host 300
stop_stratad s3b
