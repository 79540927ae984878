/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for agent/export/otlp_transport.c, for programs that link the
 * real exporter without a network (tests/unit/test_exporter.c, bench/micro.c):
 * the transport's life cycle, which does nothing. Include it once, after
 * otlp_transport.h, and define otlp_transport_send() yourself.
 */
#ifndef SONDE_FAKE_TRANSPORT_H
#define SONDE_FAKE_TRANSPORT_H

#include <stdlib.h>

#include "export/otlp_transport.h"

struct otlp_transport {
	int unused;
};

int otlp_transport_global_init(void)
{
	return 0;
}

struct otlp_transport *otlp_transport_new(const struct otlp_target *target, enum otlp_signal signal)
{
	(void)target;
	(void)signal;
	return calloc(1, sizeof(struct otlp_transport));
}

void otlp_transport_free(struct otlp_transport *t)
{
	free(t);
}

#endif /* SONDE_FAKE_TRANSPORT_H */
