/*
 * log.c
 *		orders-webhookd's log (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

void
log_msg(const char *fmt,...)
{
	struct timespec now;
	struct tm	tm;
	char		ts[32];
	char		line[1024];
	va_list		ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one fprintf per line: stdio locks the stream, lines never interleave */
	fprintf(stderr, "%s.%03dZ orders-webhookd: %s\n", ts,
			(int) (now.tv_nsec / 1000000), line);
}
