/*
 * log.c
 *		The gateway's log (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "request.h"
#include "strbuf.h"

/* Longest path written to a request line. */
#define LOG_PATH_MAX 200

static void
timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm	tm;
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03dZ", (int) (ts.tv_nsec / 1000000) % 1000);
}

void
log_msg(const char *fmt,...)
{
	char		ts[32];
	char		line[1024];
	va_list		ap;

	timestamp(ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one fprintf per line: stdio locks the stream, lines never interleave */
	fprintf(stderr, "%s orders-gateway: %s\n", ts, line);
}

void
log_request(const char *method, const char *path, size_t path_len,
			int status, double duration_ms, const char *note)
{
	StrBuf		m = STRBUF_INIT,
				p = STRBUF_INIT;

	log_escape(&m, method, strlen(method), 16);
	log_escape(&p, path, path_len, LOG_PATH_MAX);
	if (status > 0)
		log_msg("%s %s %d %.2fms%s%s", strbuf_cstr(&m), strbuf_cstr(&p),
				status, duration_ms, note ? " " : "", note ? note : "");
	else
		log_msg("%s %s - %.2fms%s%s", strbuf_cstr(&m), strbuf_cstr(&p),
				duration_ms, note ? " " : "", note ? note : "");
	strbuf_free(&m);
	strbuf_free(&p);
}
