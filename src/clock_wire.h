/* The messages between the engine and the clock process (privilege
 * separation): one fixed-size request, one fixed-size reply, over a
 * SOCK_SEQPACKET socketpair. Both ends are the same binary, so the structs
 * travel as they are. One message per clock_ops change; reading the clock
 * needs no privilege and stays in the engine. To add an operation: a value
 * in enum clock_wire_op, its check and its call in clock_server.c, its
 * sender in clock_proxy.c. */
#ifndef STRATA_CLOCK_WIRE_H
#define STRATA_CLOCK_WIRE_H

#include <stdint.h>

#include "clock.h"

enum clock_wire_op {
	CLOCK_WIRE_STEP,          /* value: offset, seconds */
	CLOCK_WIRE_SLEW,          /* value: offset, seconds */
	CLOCK_WIRE_SET_FREQUENCY, /* value: ppm */
	CLOCK_WIRE_SET_STATUS,    /* status */
	CLOCK_WIRE_SLEW_STATE,    /* nothing; the reply's slew */
	CLOCK_WIRE_OPS
};

struct clock_request {
	uint32_t op;              /* enum clock_wire_op */
	double value;
	struct clock_status status;
};

struct clock_reply {
	int32_t result;           /* 0 or -errno, as clock_ops return */
	double value;             /* for operations that return a figure */
	struct clock_slew slew;   /* CLOCK_WIRE_SLEW_STATE's answer */
};

#endif
