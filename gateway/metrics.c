/*
 * metrics.c
 *		The gateway's request metrics and the Prometheus text format
 *		(see metrics.h).
 */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics.h"
#include "openapi.h"

/* Statuses 100-599 each have a counter; libmicrohttpd sends no other. */
#define STATUS_MIN 100
#define STATUS_SLOTS 500

/* The methods counted by name; any other is "other". */
static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"
};
#define NMETHODS ((int) (sizeof(method_names) / sizeof(method_names[0])))

/*
 * Upper bounds of the latency buckets, in seconds: Prometheus' defaults,
 * from a fast read served from memory to the pool's acquire timeout.
 */
static const double bucket_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
static const char *const bucket_labels[] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"
};
#define NBOUNDS ((int) (sizeof(bucket_bounds) / sizeof(bucket_bounds[0])))
#define NBUCKETS (NBOUNDS + 1)	/* the last one: above every bound (+Inf) */

static const char unmatched_route[] = "unmatched";

struct RequestMetrics
{
	int			nroutes;		/* the document's templates + unmatched */
	/* [route][method][status - STATUS_MIN] */
	_Atomic uint64_t *requests;
	/* [route][method][bucket]: each request in one bucket (not cumulative) */
	_Atomic uint64_t *durations;
	/* [route][method]: microseconds */
	_Atomic uint64_t *duration_us;
	/* [route]: 429 answers of the rate limits */
	_Atomic uint64_t *rate_limited;
	_Atomic uint64_t unanswered;
};

RequestMetrics *
request_metrics_create(void)
{
	RequestMetrics *m = calloc(1, sizeof(RequestMetrics));
	size_t		rm;

	if (m == NULL)
		return NULL;
	m->nroutes = gateway_route_count + 1;
	rm = (size_t) m->nroutes * NMETHODS;
	/* calloc's zero bytes are zero atomics on every platform we build on */
	m->requests = calloc(rm * STATUS_SLOTS, sizeof(_Atomic uint64_t));
	m->durations = calloc(rm * NBUCKETS, sizeof(_Atomic uint64_t));
	m->duration_us = calloc(rm, sizeof(_Atomic uint64_t));
	m->rate_limited = calloc(m->nroutes, sizeof(_Atomic uint64_t));
	atomic_init(&m->unanswered, 0);
	if (m->requests == NULL || m->durations == NULL || m->duration_us == NULL ||
		m->rate_limited == NULL)
	{
		request_metrics_destroy(m);
		return NULL;
	}
	return m;
}

void
request_metrics_destroy(RequestMetrics *m)
{
	if (m == NULL)
		return;
	free(m->requests);
	free(m->durations);
	free(m->duration_us);
	free(m->rate_limited);
	free(m);
}

/*
 * Does a raw path match a template?  A {parameter} matches one segment,
 * possibly empty, as api.dispatch's pattern ([^/]*) does.
 */
static bool
template_matches(const char *tpl, const char *path, size_t len)
{
	size_t		i = 0;

	while (*tpl != '\0')
	{
		if (*tpl == '{')
		{
			const char *close = strchr(tpl, '}');

			if (close == NULL)
				return false;
			tpl = close + 1;
			while (i < len && path[i] != '/')
				i++;
			continue;
		}
		if (i >= len || path[i] != *tpl)
			return false;
		tpl++;
		i++;
	}
	return i == len;
}

/* The route's index: a template's, or gateway_route_count for none. */
static int
route_index(const char *path, size_t len)
{
	int			i;

	for (i = 0; i < gateway_route_count; i++)
		if (template_matches(gateway_route_templates[i], path, len))
			return i;
	return gateway_route_count;
}

const char *
metrics_route_of(const char *path, size_t path_len)
{
	int			i = route_index(path, path_len);

	return i < gateway_route_count ? gateway_route_templates[i] : unmatched_route;
}

static const char *
route_name(int i)
{
	return i < gateway_route_count ? gateway_route_templates[i] : unmatched_route;
}

static int
method_index(const char *method)
{
	int			i;

	for (i = 0; i < NMETHODS - 1; i++)
		if (strcmp(method, method_names[i]) == 0)
			return i;
	return NMETHODS - 1;
}

void
request_metrics_observe(RequestMetrics *m, const char *method,
						const char *path, size_t path_len,
						int status, double seconds)
{
	int			route,
				meth,
				b;
	size_t		rm;

	if (status < STATUS_MIN || status >= STATUS_MIN + STATUS_SLOTS)
	{
		atomic_fetch_add_explicit(&m->unanswered, 1, memory_order_relaxed);
		return;
	}
	route = route_index(path, path_len);
	meth = method_index(method);
	rm = (size_t) route * NMETHODS + meth;
	if (!(seconds >= 0))
		seconds = 0;			/* a clock that stepped back, or NaN */
	for (b = 0; b < NBOUNDS && seconds > bucket_bounds[b]; b++)
		;
	atomic_fetch_add_explicit(&m->requests[rm * STATUS_SLOTS + (status - STATUS_MIN)], 1,
							  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->durations[rm * NBUCKETS + b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->duration_us[rm], (uint64_t) llround(seconds * 1e6),
							  memory_order_relaxed);
	/* 429 is only ever the database's rate limits (the gateway sends none) */
	if (status == 429)
		atomic_fetch_add_explicit(&m->rate_limited[route], 1, memory_order_relaxed);
}

/* ---- the text format ---- */

void
metrics_family(StrBuf *out, const char *name, const char *type, const char *help)
{
	strbuf_append_str(out, "# HELP ");
	strbuf_append_str(out, name);
	strbuf_append_char(out, ' ');
	strbuf_append_str(out, help);
	strbuf_append_str(out, "\n# TYPE ");
	strbuf_append_str(out, name);
	strbuf_append_char(out, ' ');
	strbuf_append_str(out, type);
	strbuf_append_char(out, '\n');
}

static void
sample_text(StrBuf *out, const char *name, const char *labels, const char *value)
{
	strbuf_append_str(out, name);
	strbuf_append_str(out, labels);
	strbuf_append_char(out, ' ');
	strbuf_append_str(out, value);
	strbuf_append_char(out, '\n');
}

void
metrics_sample(StrBuf *out, const char *name, const char *labels, double value)
{
	char		v[32];

	/*
	 * Whole numbers as such; anything else in the fewest digits that read
	 * back exactly (15 almost always do, 17 always).
	 */
	if (value == floor(value) && fabs(value) < 9007199254740992.0)
		snprintf(v, sizeof(v), "%.0f", value);
	else
	{
		snprintf(v, sizeof(v), "%.15g", value);
		if (strtod(v, NULL) != value)
			snprintf(v, sizeof(v), "%.17g", value);
	}
	sample_text(out, name, labels, v);
}

void
metrics_sample_count(StrBuf *out, const char *name, const char *labels, uint64_t value)
{
	char		v[24];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	sample_text(out, name, labels, v);
}

void
metrics_single(StrBuf *out, const char *name, const char *type, const char *help,
			   double value)
{
	metrics_family(out, name, type, help);
	metrics_sample(out, name, "", value);
}

/* {route="...",method="..."} followed by more labels ("" or ",x=\"y\""). */
static const char *
route_labels(StrBuf *sb, int route, int meth, const char *more)
{
	strbuf_reset(sb);
	strbuf_append_str(sb, "{route=\"");
	strbuf_append_str(sb, route_name(route));
	if (meth >= 0)
	{
		strbuf_append_str(sb, "\",method=\"");
		strbuf_append_str(sb, method_names[meth]);
	}
	strbuf_append_char(sb, '"');
	strbuf_append_str(sb, more);
	strbuf_append_char(sb, '}');
	return strbuf_ok(sb) ? strbuf_cstr(sb) : "";
}

static void
write_requests(RequestMetrics *m, StrBuf *out, StrBuf *labels)
{
	int			route,
				meth,
				s;
	char		more[32];

	metrics_family(out, "orders_gateway_http_requests_total", "counter",
				   "HTTP requests answered, by route (the API document's path template, or unmatched), method and status.");
	for (route = 0; route < m->nroutes; route++)
		for (meth = 0; meth < NMETHODS; meth++)
			for (s = 0; s < STATUS_SLOTS; s++)
			{
				size_t		rm = (size_t) route * NMETHODS + meth;
				uint64_t	n = atomic_load_explicit(&m->requests[rm * STATUS_SLOTS + s],
													 memory_order_relaxed);

				if (n == 0)
					continue;
				snprintf(more, sizeof(more), ",status=\"%d\"", s + STATUS_MIN);
				metrics_sample_count(out, "orders_gateway_http_requests_total",
									 route_labels(labels, route, meth, more), n);
			}
}

static void
write_durations(RequestMetrics *m, StrBuf *out, StrBuf *labels)
{
	static const char name[] = "orders_gateway_http_request_duration_seconds";
	int			route,
				meth,
				b;
	char		more[32];

	metrics_family(out, name, "histogram",
				   "Time from a request's first line to its answer, by route and method.");
	for (route = 0; route < m->nroutes; route++)
		for (meth = 0; meth < NMETHODS; meth++)
		{
			size_t		rm = (size_t) route * NMETHODS + meth;
			uint64_t	counts[NBUCKETS];
			uint64_t	total = 0;

			for (b = 0; b < NBUCKETS; b++)
			{
				counts[b] = atomic_load_explicit(&m->durations[rm * NBUCKETS + b],
												 memory_order_relaxed);
				total += counts[b];
			}
			if (total == 0)
				continue;
			/* buckets are cumulative; +Inf and _count are the same total */
			total = 0;
			for (b = 0; b < NBUCKETS; b++)
			{
				total += counts[b];
				snprintf(more, sizeof(more), ",le=\"%s\"", b < NBOUNDS ? bucket_labels[b] : "+Inf");
				metrics_sample_count(out, "orders_gateway_http_request_duration_seconds_bucket",
									 route_labels(labels, route, meth, more), total);
			}
			metrics_sample(out, "orders_gateway_http_request_duration_seconds_sum",
						   route_labels(labels, route, meth, ""),
						   atomic_load_explicit(&m->duration_us[rm], memory_order_relaxed) / 1e6);
			metrics_sample_count(out, "orders_gateway_http_request_duration_seconds_count",
								 route_labels(labels, route, meth, ""), total);
		}
}

void
request_metrics_write(RequestMetrics *m, StrBuf *out)
{
	StrBuf		labels = STRBUF_INIT;
	int			route;

	write_requests(m, out, &labels);
	write_durations(m, out, &labels);

	metrics_family(out, "orders_gateway_rate_limited_requests_total", "counter",
				   "Requests refused by the database's rate limits (429), by route.");
	for (route = 0; route < m->nroutes; route++)
		metrics_sample_count(out, "orders_gateway_rate_limited_requests_total",
							 route_labels(&labels, route, -1, ""),
							 atomic_load_explicit(&m->rate_limited[route], memory_order_relaxed));

	metrics_single(out, "orders_gateway_http_requests_unanswered_total", "counter",
				   "Requests whose connection closed before an answer was sent.",
				   atomic_load_explicit(&m->unanswered, memory_order_relaxed));
	strbuf_free(&labels);
}

/* ---- the process ---- */

static long
open_descriptors(void)
{
	DIR		   *d = opendir("/proc/self/fd");
	struct dirent *e;
	long		n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;				/* not the directory's own descriptor */
}

void
metrics_write_process(StrBuf *out, double start_time)
{
	struct rusage ru;
	struct rlimit rl;
	FILE	   *f;
	long		pages = -1;
	long		fds = open_descriptors();

	if (getrusage(RUSAGE_SELF, &ru) == 0)
	{
		metrics_single(out, "process_cpu_seconds_total", "counter",
					   "User and system CPU time of the gateway, in seconds.",
					   ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
					   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	f = fopen("/proc/self/statm", "r");
	if (f != NULL)
	{
		if (fscanf(f, "%*s %ld", &pages) != 1)
			pages = -1;
		fclose(f);
	}
	if (pages >= 0)
	{
		metrics_single(out, "process_resident_memory_bytes", "gauge",
					   "Resident memory of the gateway, in bytes.",
					   (double) pages * sysconf(_SC_PAGESIZE));
	}
	if (fds >= 0)
		metrics_single(out, "process_open_fds", "gauge", "Open file descriptors.", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		metrics_single(out, "process_max_fds", "gauge", "Limit of open file descriptors.",
					   (double) rl.rlim_cur);
	metrics_single(out, "process_start_time_seconds", "gauge",
				   "Start time of the gateway, in seconds since the Unix epoch.", start_time);
}
