/*
 * ratelimit.c
 *		Per-client and per-order rate limits: token buckets in shared memory.
 *
 * Two scopes:
 *	 client	two buckets: orders.rate_limit_per_minute requests a minute and
 *			orders.rate_limit_burst requests per orders.rate_limit_burst_seconds
 *	 order	one bucket: orders.rate_limit_order_reads_per_hour detail reads of
 *			one order an hour
 * A bucket of limit L over W seconds holds at most L tokens and refills at
 * L/W tokens a second; a request takes one token from every bucket of its
 * scope, or none when any of them has less than one (a refused request
 * costs nothing).  A limit of 0 switches that bucket off.
 *
 * The table is a fixed-size shared hash (orders.rate_limit_entries
 * entries) under one LWLock: a check is a hash probe and a few floating
 * point operations, no write to disk.  When it is full, entries whose
 * buckets are full again (idle clients and orders) are dropped, which is
 * lossless: a new entry starts full.  If nothing is idle the request is
 * allowed and counted in "table_full" (orders.rate_limit_status()): failing
 * closed would let a few clients lock everybody out.
 *
 * It needs shared_preload_libraries = 'orders'.  Without it the settings
 * exist, every check allows, and orders.rate_limit_status() says "off".
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "orders.h"

#define RATE_SCOPE_CLIENT 1
#define RATE_SCOPE_ORDER 2
#define RATE_BUCKETS 2

typedef struct RateKey
{
	int64		id;
	int32		scope;
	int32		pad;			/* zeroed: keys are hashed as bytes */
} RateKey;

typedef struct RateBucket
{
	double		tokens;
	TimestampTz updated;
} RateBucket;

typedef struct RateEntry
{
	RateKey		key;
	RateBucket	buckets[RATE_BUCKETS];
} RateEntry;

typedef struct RateShared
{
	LWLock	   *lock;
	int64		denied;			/* requests refused since start */
	int64		table_full;		/* requests allowed for want of room */
} RateShared;

/* A bucket's limit: tokens per window. */
typedef struct RateLimit
{
	int			limit;
	int			window_seconds;
} RateLimit;

/* Settings. */
static int	rate_limit_per_minute = 200;
static int	rate_limit_burst = 20;
static int	rate_limit_burst_seconds = 10;
static int	rate_limit_order_reads_per_hour = 60;
static int	rate_limit_entries = 10000;

static RateShared *rate_shared = NULL;
static HTAB *rate_table = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
rate_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateShared)) +
						   hash_estimate_size(rate_limit_entries, sizeof(RateEntry)));
	RequestNamedLWLockTranche("orders_rate_limits", 1);
}

static void
rate_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rate_shared = ShmemInitStruct("orders rate limits", sizeof(RateShared), &found);
	if (!found)
	{
		rate_shared->lock = &(GetNamedLWLockTranche("orders_rate_limits"))->lock;
		rate_shared->denied = 0;
		rate_shared->table_full = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(RateKey);
	info.entrysize = sizeof(RateEntry);
	rate_table = ShmemInitHash("orders rate limit buckets",
							   rate_limit_entries, rate_limit_entries, &info,
							   HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

void
orders_ratelimit_init(void)
{
	DefineCustomIntVariable("orders.rate_limit_per_minute",
							"Requests a client may make per minute (0: no limit).",
							NULL, &rate_limit_per_minute, 200, 0, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("orders.rate_limit_burst",
							"Requests a client may make per burst window (0: no limit).",
							NULL, &rate_limit_burst, 20, 0, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("orders.rate_limit_burst_seconds",
							"Length of the burst window.",
							NULL, &rate_limit_burst_seconds, 10, 1, 3600,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("orders.rate_limit_order_reads_per_hour",
							"Detail reads of one order per hour (0: no limit).",
							NULL, &rate_limit_order_reads_per_hour, 60, 0, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);

	/*
	 * The table's size is fixed at server start; a postmaster setting can
	 * only be defined then (loading later, it would be a FATAL error).
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("orders.rate_limit_entries",
							"Clients and orders the rate-limit table can track at once.",
							NULL, &rate_limit_entries, 10000, 100, 10000000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rate_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rate_shmem_startup;
}

/* Limits of a scope, in bucket order; limit 0 means off. */
static void
scope_limits(int scope, RateLimit limits[RATE_BUCKETS])
{
	if (scope == RATE_SCOPE_CLIENT)
	{
		limits[0] = (RateLimit) {rate_limit_per_minute, 60};
		limits[1] = (RateLimit) {rate_limit_burst, rate_limit_burst_seconds};
	}
	else
	{
		limits[0] = (RateLimit) {rate_limit_order_reads_per_hour, 3600};
		limits[1] = (RateLimit) {0, 1};
	}
}

/* Bring a bucket up to now, never above its limit. */
static void
refill(RateBucket *b, const RateLimit *l, TimestampTz now)
{
	double		elapsed = (double) (now - b->updated) / USECS_PER_SEC;

	if (elapsed > 0)
		b->tokens += elapsed * l->limit / l->window_seconds;
	if (b->tokens > l->limit)
		b->tokens = l->limit;
	b->updated = now;
}

/* Drop entries whose buckets are all full again; caller holds the lock. */
static void
drop_idle_entries(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	RateEntry  *e;

	hash_seq_init(&seq, rate_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		RateLimit	limits[RATE_BUCKETS];
		bool		idle = true;
		int			i;

		scope_limits(e->key.scope, limits);
		for (i = 0; i < RATE_BUCKETS; i++)
		{
			if (limits[i].limit == 0)
				continue;
			refill(&e->buckets[i], &limits[i], now);
			if (e->buckets[i].tokens < limits[i].limit)
				idle = false;
		}
		if (idle)
			hash_search(rate_table, &e->key, HASH_REMOVE, NULL);
	}
}

static int
scope_from_text(text *t)
{
	char	   *s = text_to_cstring(t);

	if (strcmp(s, "client") == 0)
		return RATE_SCOPE_CLIENT;
	if (strcmp(s, "order") == 0)
		return RATE_SCOPE_ORDER;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("rate limit scope must be \"client\" or \"order\", not \"%s\"", s)));
	return 0;
}

/*
 * orders.rate_limit_take(scope text, id bigint, OUT allowed boolean,
 *	 OUT "limit" integer, OUT remaining integer, OUT reset_seconds integer,
 *	 OUT retry_after integer) RETURNS record
 *
 * Takes one token for the request, or refuses it.  The figures describe
 * the binding bucket: the refusing one (the longest wait) when refused,
 * otherwise the one with the fewest tokens left.  reset_seconds: until that
 * bucket is full again; retry_after: until a request would pass (0 when
 * allowed).  With limits off, allowed is true and the figures are NULL.
 */
PG_FUNCTION_INFO_V1(ratelimit_take);
Datum
ratelimit_take(PG_FUNCTION_ARGS)
{
	int			scope = scope_from_text(PG_GETARG_TEXT_PP(0));
	int64		id = PG_GETARG_INT64(1);
	RateLimit	limits[RATE_BUCKETS];
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, true, true, true, false};
	bool		allowed = true;
	int			binding = -1;
	double		binding_wait = -1;
	double		retry_after = 0;
	RateKey		key;
	RateEntry  *e;
	bool		found;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "rate_limit_take must return a record");
	scope_limits(scope, limits);

	if (rate_shared != NULL && (limits[0].limit > 0 || limits[1].limit > 0))
	{
		memset(&key, 0, sizeof(key));
		key.scope = scope;
		key.id = id;

		LWLockAcquire(rate_shared->lock, LW_EXCLUSIVE);
		e = hash_search(rate_table, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			drop_idle_entries(now);
			e = hash_search(rate_table, &key, HASH_ENTER_NULL, &found);
		}
		if (e == NULL)
			rate_shared->table_full++;
		else
		{
			if (!found)
			{
				for (i = 0; i < RATE_BUCKETS; i++)
				{
					e->buckets[i].tokens = limits[i].limit;
					e->buckets[i].updated = now;
				}
			}
			for (i = 0; i < RATE_BUCKETS; i++)
			{
				if (limits[i].limit == 0)
					continue;
				refill(&e->buckets[i], &limits[i], now);
				if (e->buckets[i].tokens < 1)
				{
					double		wait = (1 - e->buckets[i].tokens) *
						limits[i].window_seconds / limits[i].limit;

					allowed = false;
					if (wait > retry_after)
					{
						retry_after = wait;
						binding = i;
					}
				}
			}
			if (allowed)
			{
				/* take a token everywhere; report the emptiest bucket */
				for (i = 0; i < RATE_BUCKETS; i++)
				{
					double		wait;

					if (limits[i].limit == 0)
						continue;
					e->buckets[i].tokens -= 1;
					wait = (limits[i].limit - e->buckets[i].tokens) *
						limits[i].window_seconds / limits[i].limit;
					if (binding < 0 ||
						e->buckets[i].tokens < e->buckets[binding].tokens ||
						(e->buckets[i].tokens == e->buckets[binding].tokens && wait > binding_wait))
					{
						binding = i;
						binding_wait = wait;
					}
				}
			}
			else
				rate_shared->denied++;

			values[1] = Int32GetDatum(limits[binding].limit);
			values[2] = Int32GetDatum((int32) floor(e->buckets[binding].tokens));
			values[3] = Int32GetDatum((int32) ceil((limits[binding].limit - e->buckets[binding].tokens) *
												   limits[binding].window_seconds /
												   limits[binding].limit));
			nulls[1] = nulls[2] = nulls[3] = false;
		}
		LWLockRelease(rate_shared->lock);
	}
	values[0] = BoolGetDatum(allowed);
	values[4] = Int32GetDatum(allowed ? 0 : (int32) ceil(retry_after));
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * orders.rate_limit_status(OUT enabled boolean, OUT entries bigint,
 *	 OUT capacity integer, OUT denied bigint, OUT table_full bigint)
 *	 RETURNS record
 */
PG_FUNCTION_INFO_V1(ratelimit_status);
Datum
ratelimit_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "rate_limit_status must return a record");
	values[0] = BoolGetDatum(rate_shared != NULL);
	values[2] = Int32GetDatum(rate_limit_entries);
	if (rate_shared != NULL)
	{
		LWLockAcquire(rate_shared->lock, LW_SHARED);
		values[1] = Int64GetDatum(hash_get_num_entries(rate_table));
		values[3] = Int64GetDatum(rate_shared->denied);
		values[4] = Int64GetDatum(rate_shared->table_full);
		LWLockRelease(rate_shared->lock);
	}
	else
		nulls[1] = nulls[3] = nulls[4] = true;
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * orders.rate_limit_reset() RETURNS bigint: forget every bucket (all start
 * full again); returns how many entries were dropped.
 */
PG_FUNCTION_INFO_V1(ratelimit_reset);
Datum
ratelimit_reset(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	RateEntry  *e;
	int64		dropped = 0;

	if (rate_shared == NULL)
		PG_RETURN_INT64(0);
	LWLockAcquire(rate_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, rate_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		hash_search(rate_table, &e->key, HASH_REMOVE, NULL);
		dropped++;
	}
	LWLockRelease(rate_shared->lock);
	PG_RETURN_INT64(dropped);
}
