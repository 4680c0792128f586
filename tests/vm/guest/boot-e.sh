#!/bin/sh
# Boot E: scenario 11, a PPS reference clock through the kernel's own driver.
# pps_parport timestamps the emulated parallel port's interrupt as /dev/pps0;
# guest-clock-probe pulses the port on each datagram the host sends at its
# whole seconds, so the pulses mark the host's seconds. stratad takes its
# time from the PPS alone (offset 5 ms, so that the result shows whose time
# it is); the host's NTP server is noselect and only numbers the seconds.
. /etc/strata-vm/lib.sh
insmod /lib/modules/pps/parport.ko
insmod /lib/modules/pps/parport_pc.ko io=0x378 irq=7
# the assert edge only: nothing holds the line up long enough for a clear
insmod /lib/modules/pps/pps_parport.ko clear_wait=0
echo "@@PPS device=$(ls /dev/pps0 2>&1) name=$(cat /sys/class/pps/pps0/name 2>&1)"
guest-clock-probe pulse 9201 600 &
echo "@@READY"
wait_host 120 # the host is ticking
# 0.3 s ahead, so that stratad steps onto the pulses whatever the RTC gave
# (an error under the step threshold would be slewed at 500 ppm for minutes)
set_offset 0.3
mkdir -p /etc/strata
cat >/etc/strata/pps.conf <<CONF
sources = ( { server = "$HOST"; port = $NTP_PORT; iburst = true; minpoll = 4; maxpoll = 4; noselect = true; } );
refclocks = ( { driver = "PPS"; device = "/dev/pps0"; lock = "$HOST"; refid = "PPS"; poll = 2; offset = 0.005; } );
clock = { driftfile = "/var/lib/strata/drift"; };
user = "_strata";
log = { level = "info"; syslog = false; };
CONF
start_stratad /etc/strata/pps.conf
wait_host 400
echo "@@SOURCES pps $(stratactl --json sources 2>&1 | tr -d '\n')"
echo "@@PPS-ASSERT $(cat /sys/class/pps/pps0/assert)"
stop_stratad pps
