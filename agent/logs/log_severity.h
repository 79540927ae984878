/* SPDX-License-Identifier: MIT */
/*
 * The severity of a log line, from the forms applications commonly write:
 *   JSON          {"level":"warn"…}, "severity", "lvl", "levelname", "log.level";
 *                 pino/bunyan numbers ("level":40)
 *   logfmt        level=warn, lvl=error, severity=info
 *   bracketed     [WARN], [error], <warning>
 *   syslog        <4> at the start (systemd's sd-daemon prefixes)
 *   Python        WARNING:root:… (logging's default format), and a level
 *                 word as one of the first fields: "2024-05-01 12:00:00,001
 *                 ERROR …", "12:00:00.123 [main] ERROR c.e.Foo - …" (Java)
 *   glog/klog     W0501 12:00:00.000000 …
 * A bare word counts only in upper case and among the first fields, so that
 * "no error found" says nothing. Otherwise the severity is unspecified.
 * Numbers are OpenTelemetry's SeverityNumber (logs data model). Pure code.
 */
#ifndef SONDE_LOG_SEVERITY_H
#define SONDE_LOG_SEVERITY_H

#include <stddef.h>
#include <stdint.h>

#define LOG_SEVERITY_TEXT_LEN 16

enum log_severity_number {
	LOG_SEV_UNSPECIFIED = 0,
	LOG_SEV_TRACE = 1,
	LOG_SEV_DEBUG = 5,
	LOG_SEV_INFO = 9,
	LOG_SEV_INFO2 = 10, /* notice */
	LOG_SEV_WARN = 13,
	LOG_SEV_ERROR = 17,
	LOG_SEV_ERROR2 = 18, /* critical */
	LOG_SEV_ERROR3 = 19, /* alert */
	LOG_SEV_FATAL = 21,
};

struct log_severity {
	uint8_t number; /* enum log_severity_number */
	char text
		[LOG_SEVERITY_TEXT_LEN]; /* as the line wrote it ("WARNING", "warn"); "" when none */
};

/* Looks at the start of line[0..len) (the first 512 bytes). */
void log_severity_parse(const char *line, size_t len, struct log_severity *out);

/* "WARN", "ERROR"…: the name of a SeverityNumber's range, for display. */
const char *log_severity_name(uint8_t number);

#endif /* SONDE_LOG_SEVERITY_H */
