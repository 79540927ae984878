/* SPDX-License-Identifier: MIT */
/* Severity from the forms real loggers write, and no severity from text that
 * only mentions a level. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "logs/log_severity.h"

struct example {
	const char *line;
	uint8_t number;
	const char *text;
};

static const struct example examples[] = {
	/* JSON loggers: structlog, zap, logrus, pino, bunyan, Serilog */
	{ "{\"level\":\"warn\",\"msg\":\"slow query\"}", LOG_SEV_WARN, "warn" },
	{ "{\"ts\":1.5, \"severity\" : \"ERROR\", \"message\":\"x\"}", LOG_SEV_ERROR, "ERROR" },
	{ "{\"msg\":\"level is not here\",\"lvl\":\"debug\"}", LOG_SEV_DEBUG, "debug" },
	{ "{\"level\":40,\"time\":1,\"msg\":\"pino\"}", LOG_SEV_WARN, "warn" },
	{ "{\"level\":60,\"msg\":\"bunyan\"}", LOG_SEV_FATAL, "fatal" },
	{ "{\"@l\":\"Information\",\"@mt\":\"Serilog\"}", LOG_SEV_INFO, "Information" },
	{ "{\"levelname\": \"CRITICAL\"}", LOG_SEV_ERROR2, "CRITICAL" },
	{ "{\"message\":\"the level field is a value here: level\"}", 0, "" },
	/* logfmt */
	{ "time=2024-05-01T12:00:00Z level=warn msg=\"slow query\" table=orders", LOG_SEV_WARN,
	  "warn" },
	{ "lvl=\"error\" msg=x", LOG_SEV_ERROR, "error" },
	{ "sublevel=error msg=x", 0, "" },
	/* bracketed, any case */
	{ "[WARN] disk 91% full", LOG_SEV_WARN, "WARN" },
	{ "2024/05/01 12:00:00 [error] 12#0: *1 open() failed", LOG_SEV_ERROR, "error" },
	{ "<notice> started", LOG_SEV_INFO2, "notice" },
	/* Python logging's default format and "%(asctime)s %(levelname)s" */
	{ "WARNING:root:slow query for customer 7", LOG_SEV_WARN, "WARNING" },
	{ "ERROR:shop.payments:card declined", LOG_SEV_ERROR, "ERROR" },
	{ "2024-05-01 12:00:00,001 INFO served /cart", LOG_SEV_INFO, "INFO" },
	/* Java-style */
	{ "2024-05-01 12:00:00.123 ERROR [main] c.e.Shop - checkout failed", LOG_SEV_ERROR,
	  "ERROR" },
	{ "12:00:00.123 [http-nio-8080-exec-1] DEBUG c.e.Shop - cart", LOG_SEV_DEBUG, "DEBUG" },
	{ "SEVERE: connection reset", LOG_SEV_ERROR, "SEVERE" },
	/* glog, syslog priority */
	{ "E0501 12:00:00.000000    1 main.go:10] failed", LOG_SEV_ERROR, "E" },
	{ "<4>disk almost full", LOG_SEV_WARN, "warning" },
	/* words that are not a level */
	{ "no error found", 0, "" },
	{ "GET /items/7 200 OK", 0, "" },
	{ "served customer 7 in 12 ms, nothing to warn about WARN", 0, "" },
	{ "Error: lower-case words count only in brackets or fields", 0, "" },
	{ "", 0, "" },
};

static void test_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct log_severity s;

		log_severity_parse(examples[i].line, strlen(examples[i].line), &s);
		if (s.number != examples[i].number || strcmp(s.text, examples[i].text))
			fail_msg("\"%s\": got %u \"%s\", want %u \"%s\"", examples[i].line,
				 s.number, s.text, examples[i].number, examples[i].text);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(log_severity_name(LOG_SEV_WARN), "WARN");
	assert_string_equal(log_severity_name(LOG_SEV_ERROR2), "ERROR");
	assert_string_equal(log_severity_name(LOG_SEV_INFO2), "INFO");
	assert_string_equal(log_severity_name(0), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
