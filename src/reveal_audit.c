/*
 * reveal_audit.c
 *		The durable audit of voucher reveals: a reveal hands its audit records
 *		to a background worker through shared memory and waits until the
 *		worker has committed them; only then does it decrypt (docs/vault.md).
 *
 * Why a worker: the audit must be durable before any code leaves the
 * database, whatever becomes of the caller's transaction, and the reveal
 * must work in a READ ONLY transaction (PostgREST runs GET there).  So the
 * records are written by another process in a transaction of its own.
 *
 * Shared memory (only with orders in shared_preload_libraries):
 *	- one request slot per backend (indexed by backend id): the records of
 *	  one reveal (client, order, item and unit ids, role, time), its state
 *	  (queued, taken by the worker, committed, failed) and a condition
 *	  variable on which the revealing backend sleeps;
 *	- one entry per database that has an audit worker.
 * Both under one LWLock, held only to copy a few hundred bytes.
 *
 * One audit worker per database, started on demand by the first reveal
 * there (a background worker connects to one database, and reveals happen
 * wherever the extension is installed), leaving after AUDIT_IDLE_EXIT_MS
 * without work so that it never holds a database that is to be dropped.
 * Each round it takes every queued request of its database, inserts all
 * their rows with one statement, commits once (group commit), then wakes
 * the waiters.  It is not the maintenance worker (src/worker.c): a
 * maintenance round may take seconds, a reveal must not wait for it.
 *
 * Fail closed: without shared memory (not preloaded), without a worker slot,
 * when the worker reports a failure or does not commit within
 * orders.reveal_audit_timeout, the reveal raises OR303 and reveals nothing.
 * A waiting backend that is cancelled or terminated withdraws its request
 * (PG_CATCH, and a before_shmem_exit callback for FATAL exits); a request
 * the worker had already taken may still be committed: the audit then
 * records a reveal that returned nothing, never the reverse.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "reveal_audit.h"
#include "vault.h"

/* Items one request carries; a larger reveal is audited in several. */
#define AUDIT_REQUEST_ITEMS 64
/* Databases with an audit worker at a time. */
#define AUDIT_MAX_DATABASES 16
/* An idle worker leaves after this (DROP DATABASE waits 5 s for it). */
#define AUDIT_IDLE_EXIT_MS 2000
/* A worker asked for and not attached after this is asked for again. */
#define AUDIT_START_RETRY_MS 1000

typedef enum AuditState
{
	AUDIT_FREE = 0,				/* no request */
	AUDIT_QUEUED,				/* waiting for the worker */
	AUDIT_TAKEN,				/* in the worker's current transaction */
	AUDIT_COMMITTED,			/* committed: the reveal may go on */
	AUDIT_FAILED				/* the worker could not write it */
} AuditState;

/* A backend's request: the audit records of (part of) one reveal. */
typedef struct AuditRequest
{
	AuditState	state;
	uint64		number;			/* tells a request from its slot's next one */
	Oid			database;
	int64		client_id;
	int64		order_id;
	TimestampTz revealed_at;
	NameData	revealed_by;
	int			nitems;
	int64		item_ids[AUDIT_REQUEST_ITEMS];
	int64		unit_ids[AUDIT_REQUEST_ITEMS];
	ConditionVariable done;		/* broadcast when committed or failed */
} AuditRequest;

/* The audit worker of a database. */
typedef struct AuditWorker
{
	Oid			database;		/* InvalidOid: entry unused */
	pid_t		pid;			/* 0: none attached */
	Latch	   *latch;
	TimestampTz start_requested;	/* 0: none asked for */
} AuditWorker;

typedef struct AuditShared
{
	LWLock	   *lock;
	uint64		next_number;
	AuditWorker workers[AUDIT_MAX_DATABASES];
	int			nrequests;
	AuditRequest requests[FLEXIBLE_ARRAY_MEMBER];
} AuditShared;

static AuditShared *audit = NULL;
static int	reveal_audit_timeout_ms = 10000;
static bool exit_callback_registered = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
audit_shmem_size(void)
{
	return add_size(offsetof(AuditShared, requests),
					mul_size(MaxBackends, sizeof(AuditRequest)));
}

static void
audit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(audit_shmem_size());
	RequestNamedLWLockTranche("orders_reveal_audit", 1);
}

static void
audit_shmem_startup(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	audit = ShmemInitStruct("orders reveal audit", audit_shmem_size(), &found);
	if (!found)
	{
		memset(audit, 0, audit_shmem_size());
		audit->lock = &(GetNamedLWLockTranche("orders_reveal_audit"))->lock;
		audit->next_number = 1;
		audit->nrequests = MaxBackends;
		for (i = 0; i < audit->nrequests; i++)
			ConditionVariableInit(&audit->requests[i].done);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
orders_reveal_audit_init(void)
{
	DefineCustomIntVariable("orders.reveal_audit_timeout",
							"Longest wait of a voucher reveal for its audit to be committed.",
							"Past it the reveal fails and reveals nothing.",
							&reveal_audit_timeout_ms, 10000, 100, 600000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = audit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = audit_shmem_startup;
}

/* ---- the revealing backend ---------------------------------------------- */

static void
audit_unavailable(const char *detail) pg_attribute_noreturn();

static void
audit_unavailable(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_ORDERS_REVEAL_AUDIT_UNAVAILABLE),
			 errmsg("voucher reveal refused: its audit could not be recorded"),
			 errdetail_internal("%s", detail),
			 errhint("Vouchers are revealed only once their audit is committed by the orders reveal audit worker: "
					 "orders must be in shared_preload_libraries (server restart) and background workers "
					 "must be able to start (max_worker_processes).")));
}

/*
 * The worker entry of a database, found or claimed; NULL when every entry
 * serves another database.  An entry without a worker attached or asked for
 * is free.  Caller holds the lock exclusively.
 */
static AuditWorker *
worker_entry(Oid database, TimestampTz now)
{
	AuditWorker *free_entry = NULL;
	int			i;

	for (i = 0; i < AUDIT_MAX_DATABASES; i++)
	{
		AuditWorker *w = &audit->workers[i];

		if (w->database == database)
			return w;
		if (free_entry == NULL &&
			(w->database == InvalidOid ||
			 (w->pid == 0 &&
			  TimestampDifferenceExceeds(w->start_requested, now, AUDIT_START_RETRY_MS))))
			free_entry = w;
	}
	if (free_entry != NULL)
	{
		free_entry->database = database;
		free_entry->pid = 0;
		free_entry->latch = NULL;
		free_entry->start_requested = 0;
	}
	return free_entry;
}

typedef enum WorkerAction
{
	WORKER_WAKE,				/* running: set its latch */
	WORKER_START,				/* none: start one */
	WORKER_WAIT,				/* starting already */
	WORKER_NO_ROOM				/* every entry serves another database */
} WorkerAction;

/*
 * What the caller must do so that the database's queued requests get
 * served.  Caller holds the lock exclusively.
 */
static WorkerAction
worker_action(Oid database, Latch **latch)
{
	TimestampTz now = GetCurrentTimestamp();
	AuditWorker *w = worker_entry(database, now);

	*latch = NULL;
	if (w == NULL)
		return WORKER_NO_ROOM;
	if (w->pid != 0)
	{
		*latch = w->latch;
		return WORKER_WAKE;
	}
	if (w->start_requested != 0 &&
		!TimestampDifferenceExceeds(w->start_requested, now, AUDIT_START_RETRY_MS))
		return WORKER_WAIT;
	w->start_requested = now;
	return WORKER_START;
}

/* Ask the postmaster for an audit worker in the database. */
static bool
start_worker(Oid database)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;	/* the next reveal starts one */
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "orders");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "orders_reveal_audit_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "orders reveal audit worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "orders reveal audit worker");
	worker.bgw_main_arg = ObjectIdGetDatum(database);
	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

/* Make sure someone serves the database: wake, start, or wait for its worker. */
static void
serve_database(Oid database)
{
	Latch	   *latch;
	WorkerAction action;

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	action = worker_action(database, &latch);
	LWLockRelease(audit->lock);

	if (action == WORKER_WAKE && latch != NULL)
		SetLatch(latch);
	else if (action == WORKER_START && !start_worker(database))
		audit_unavailable("No background worker slot is free for the reveal audit worker.");
	else if (action == WORKER_NO_ROOM)
		audit_unavailable("Too many databases have a reveal audit worker at once.");
}

/* This backend's request slot. */
static AuditRequest *
my_request(void)
{
	if (MyBackendId == InvalidBackendId || MyBackendId > audit->nrequests)
		audit_unavailable("This process has no reveal audit slot.");
	return &audit->requests[MyBackendId - 1];
}

/* Withdraw this backend's request, whatever its state. */
static void
withdraw_request(void)
{
	AuditRequest *r = &audit->requests[MyBackendId - 1];

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	r->state = AUDIT_FREE;
	LWLockRelease(audit->lock);
}

/* before_shmem_exit: a backend terminated while waiting withdraws. */
static void
withdraw_at_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	if (audit != NULL && MyBackendId != InvalidBackendId &&
		MyBackendId <= audit->nrequests)
		withdraw_request();
}

/*
 * Put the audit records of up to AUDIT_REQUEST_ITEMS items in this backend's
 * slot (replacing whatever request it held) and make sure a worker serves
 * the database.  Returns the request's number.
 */
static uint64
queue_request(int64 client_id, int64 order_id, const char *role,
			  const int64 *item_ids, const int64 *unit_ids, int nitems)
{
	AuditRequest *r = my_request();
	uint64		number;

	Assert(nitems > 0 && nitems <= AUDIT_REQUEST_ITEMS);

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	number = audit->next_number++;
	r->number = number;
	r->database = MyDatabaseId;
	r->client_id = client_id;
	r->order_id = order_id;
	r->revealed_at = GetCurrentTimestamp();
	namestrcpy(&r->revealed_by, role);
	r->nitems = nitems;
	memcpy(r->item_ids, item_ids, nitems * sizeof(int64));
	memcpy(r->unit_ids, unit_ids, nitems * sizeof(int64));
	r->state = AUDIT_QUEUED;
	LWLockRelease(audit->lock);

	PG_TRY();
	{
		serve_database(MyDatabaseId);
	}
	PG_CATCH();
	{
		withdraw_request();
		PG_RE_THROW();
	}
	PG_END_TRY();
	return number;
}

/*
 * Wait until the worker has committed request number (durably: the worker
 * commits synchronously), and free the slot.  Returns normally only then;
 * raises OR303 otherwise.
 */
static void
wait_request(uint64 number)
{
	AuditRequest *r = my_request();
	TimestampTz deadline;
	volatile AuditState final_state = AUDIT_QUEUED;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), reveal_audit_timeout_ms);
	PG_TRY();
	{
		ConditionVariablePrepareToSleep(&r->done);
		for (;;)
		{
			long		remaining_ms;

			LWLockAcquire(audit->lock, LW_SHARED);
			if (r->number == number)
				final_state = r->state;
			LWLockRelease(audit->lock);
			if (final_state == AUDIT_COMMITTED || final_state == AUDIT_FAILED)
				break;
			remaining_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (remaining_ms <= 0)
				break;
			/*
			 * Woken by the timeout and still queued: the worker may have
			 * left meanwhile (idle, or an error); see that one serves the
			 * database.
			 */
			if (ConditionVariableTimedSleep(&r->done, Min(remaining_ms, 100),
											PG_WAIT_EXTENSION) &&
				final_state == AUDIT_QUEUED)
				serve_database(MyDatabaseId);
		}
		ConditionVariableCancelSleep();
	}
	PG_CATCH();
	{
		ConditionVariableCancelSleep();
		withdraw_request();
		PG_RE_THROW();
	}
	PG_END_TRY();

	withdraw_request();
	if (final_state == AUDIT_FAILED)
		audit_unavailable("The reveal audit worker could not write the audit rows (see the server log).");
	if (final_state != AUDIT_COMMITTED)
		audit_unavailable("The reveal audit worker did not commit the audit rows within orders.reveal_audit_timeout.");
}

/*
 * A request queued ahead by reveal_audit_prepare() and not yet waited for:
 * its number (0: none).  Forgotten, and withdrawn if still queued, at the
 * end of the transaction.
 */
static uint64 prepared_number = 0;
static bool xact_callback_registered = false;

/* Withdraw the prepared request if the slot still holds it. */
static void
forget_prepared(void)
{
	if (prepared_number != 0 && audit != NULL)
	{
		AuditRequest *r = &audit->requests[MyBackendId - 1];

		LWLockAcquire(audit->lock, LW_EXCLUSIVE);
		if (r->number == prepared_number && r->state != AUDIT_TAKEN)
			r->state = AUDIT_FREE;
		LWLockRelease(audit->lock);
	}
	prepared_number = 0;
}

static void
forget_prepared_at_xact_end(XactEvent event, void *arg pg_attribute_unused())
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE)
		forget_prepared();
}

/*
 * Is the prepared request the audit of exactly these items?  It is only if
 * the slot still holds it (no other reveal of this backend replaced it).
 */
static bool
prepared_matches(int64 client_id, int64 order_id, const int64 *item_ids,
				 const int64 *unit_ids, int nitems)
{
	AuditRequest *r = &audit->requests[MyBackendId - 1];
	bool		same;

	if (prepared_number == 0)
		return false;
	LWLockAcquire(audit->lock, LW_SHARED);
	same = r->number == prepared_number && r->state != AUDIT_FREE &&
		r->database == MyDatabaseId &&
		r->client_id == client_id && r->order_id == order_id &&
		r->nitems == nitems &&
		memcmp(r->item_ids, item_ids, nitems * sizeof(int64)) == 0 &&
		memcmp(r->unit_ids, unit_ids, nitems * sizeof(int64)) == 0;
	LWLockRelease(audit->lock);
	return same;
}

/* The callbacks every revealing backend needs, registered once. */
static void
register_callbacks(void)
{
	if (!exit_callback_registered)
	{
		before_shmem_exit(withdraw_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	if (!xact_callback_registered)
	{
		RegisterXactCallback(forget_prepared_at_xact_end, NULL);
		xact_callback_registered = true;
	}
}

/*
 * reveal_audit_prepare: hand the audit of a reveal to come to the worker now,
 * without waiting (src/reveal_audit.h).  The create path knows which items
 * and units its response will reveal before it writes the order; the
 * worker's commit then runs while the backend writes, and the reveal's
 * vault_audit_reveal() waits for this request instead of queueing its own.
 * Nothing is decrypted before that wait has returned.  Does nothing when the
 * reveal could not use it (no shared memory, in recovery, more items than
 * one request carries): the reveal then queues and waits as usual.
 */
void
reveal_audit_prepare(int64 client_id, int64 order_id, const int64 *item_ids,
					 const int64 *unit_ids, int nitems)
{
	char	   *role;

	if (audit == NULL || RecoveryInProgress() ||
		nitems <= 0 || nitems > AUDIT_REQUEST_ITEMS)
		return;
	register_callbacks();
	forget_prepared();
	role = GetUserNameFromId(GetOuterUserId(), false);
	prepared_number = queue_request(client_id, order_id, role, item_ids, unit_ids, nitems);
}

/*
 * Queue the audit records of up to AUDIT_REQUEST_ITEMS revealed items and
 * wait until the worker has committed them (or wait for the request
 * prepared ahead for exactly these).  Returns normally only then.
 */
static void
audit_and_wait(int64 client_id, int64 order_id, const char *role,
			   const int64 *item_ids, const int64 *unit_ids, int nitems)
{
	uint64		number;

	if (prepared_matches(client_id, order_id, item_ids, unit_ids, nitems))
	{
		number = prepared_number;
		prepared_number = 0;
	}
	else
	{
		forget_prepared();
		number = queue_request(client_id, order_id, role, item_ids, unit_ids, nitems);
	}
	wait_request(number);
}

/* The elements of a bigint[] without NULLs. */
static int64 *
bigint_array(ArrayType *a, const char *name, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int64	   *values;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", name)));
	deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, n);
	values = palloc(Max(*n, 1) * sizeof(int64));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", name)));
		values[i] = DatumGetInt64(elems[i]);
	}
	return values;
}

PG_FUNCTION_INFO_V1(vault_audit_reveal);

/*
 * vault_audit_reveal(client_id bigint, order_id bigint, item_ids bigint[],
 *					  unit_ids bigint[]) RETURNS void
 *
 * Returns once one orders.voucher_reveals row per item is committed, by the
 * role that issued the statement (the outer role, as orders.calling_role);
 * raises OR303 otherwise.  Works in a READ ONLY transaction: the rows are
 * the worker's, committed whatever becomes of the caller's transaction.
 */
Datum
vault_audit_reveal(PG_FUNCTION_ARGS)
{
	int64		client_id;
	int64		order_id;
	int64	   *item_ids;
	int64	   *unit_ids;
	int			nitems,
				nunits,
				done;
	char	   *role;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vault_audit_reveal: no argument may be NULL")));
	client_id = PG_GETARG_INT64(0);
	order_id = PG_GETARG_INT64(1);
	item_ids = bigint_array(PG_GETARG_ARRAYTYPE_P(2), "item_ids", &nitems);
	unit_ids = bigint_array(PG_GETARG_ARRAYTYPE_P(3), "unit_ids", &nunits);
	if (nitems != nunits)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vault_audit_reveal: item_ids and unit_ids differ in length (%d and %d)",
						nitems, nunits)));
	if (nitems == 0)
		PG_RETURN_VOID();

	if (audit == NULL)
		audit_unavailable("orders is not in shared_preload_libraries: there is no reveal audit worker.");
	if (RecoveryInProgress())
		audit_unavailable("The server is in recovery: no audit row can be written.");
	register_callbacks();
	role = GetUserNameFromId(GetOuterUserId(), false);
	for (done = 0; done < nitems; done += AUDIT_REQUEST_ITEMS)
		audit_and_wait(client_id, order_id, role, item_ids + done, unit_ids + done,
					   Min(nitems - done, AUDIT_REQUEST_ITEMS));
	PG_RETURN_VOID();
}

/* ---- the audit worker ------------------------------------------------------ */

/*
 * The requests a worker took in one round: copies of their slots (made
 * under the lock into memory allocated once, so that nothing there can
 * fail), and the numbers that tell them from their slots' next requests.
 */
typedef struct AuditBatch
{
	int			nrequests;
	int		   *slots;
	AuditRequest *taken;
} AuditBatch;

static Oid	worker_database = InvalidOid;
static SPIPlanPtr insert_plan = NULL;

/* This worker's entry, or NULL if it lost it.  Caller holds the lock. */
static AuditWorker *
my_worker_entry(void)
{
	int			i;

	for (i = 0; i < AUDIT_MAX_DATABASES; i++)
		if (audit->workers[i].database == worker_database &&
			audit->workers[i].pid == MyProcPid)
			return &audit->workers[i];
	return NULL;
}

/*
 * Take every queued request of the database (state TAKEN).  With none
 * queued and leave set, the worker detaches in the same critical section,
 * so that a request queued after it finds no worker and starts one.
 * Returns whether the worker left.
 */
static bool
take_batch(AuditBatch *b, bool leave)
{
	int			i;
	bool		left = false;

	b->nrequests = 0;
	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	for (i = 0; i < audit->nrequests; i++)
	{
		AuditRequest *r = &audit->requests[i];

		if (r->state == AUDIT_QUEUED && r->database == worker_database)
		{
			r->state = AUDIT_TAKEN;
			b->slots[b->nrequests] = i;
			memcpy(&b->taken[b->nrequests], r, offsetof(AuditRequest, done));
			b->nrequests++;
		}
	}
	if (b->nrequests == 0 && leave)
	{
		AuditWorker *w = my_worker_entry();

		if (w != NULL)
			memset(w, 0, sizeof(*w));
		left = true;
	}
	LWLockRelease(audit->lock);
	return left;
}

/* Tell the backends of a batch how it went, and wake them. */
static void
finish_batch(const AuditBatch *b, AuditState outcome)
{
	int			i;

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	for (i = 0; i < b->nrequests; i++)
	{
		AuditRequest *r = &audit->requests[b->slots[i]];

		/* A withdrawn request's slot may hold a newer one: leave that. */
		if (r->number == b->taken[i].number && r->state == AUDIT_TAKEN)
			r->state = outcome;
	}
	LWLockRelease(audit->lock);
	for (i = 0; i < b->nrequests; i++)
		ConditionVariableBroadcast(&audit->requests[b->slots[i]].done);
}

/* A bigint[] or timestamptz[] (both 8 bytes, by value here) of n values. */
static Datum
int8_array(Datum *values, int n, Oid type)
{
	return PointerGetDatum(construct_array(values, n, type, 8, FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/*
 * Insert the batch's rows with one statement and commit: one transaction,
 * one WAL flush for every reveal queued meanwhile.
 */
static void
write_batch(const AuditBatch *b)
{
	static const char *const insert =
		"INSERT INTO orders.voucher_reveals "
		"(client_id, order_id, order_item_id, unit_id, revealed_at, revealed_by) "
		"SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
		"pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
		"pg_catalog.unnest($6))";
	Oid			types[6] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	TIMESTAMPTZARRAYOID, TEXTARRAYOID};
	Datum		args[6];
	Datum	   *columns[6];
	int			nrows = 0;
	int			i,
				j,
				c,
				rc;

	for (i = 0; i < b->nrequests; i++)
		nrows += b->taken[i].nitems;
	for (c = 0; c < 6; c++)
		columns[c] = palloc(nrows * sizeof(Datum));
	nrows = 0;
	for (i = 0; i < b->nrequests; i++)
	{
		const AuditRequest *r = &b->taken[i];
		Datum		role = PointerGetDatum(cstring_to_text(NameStr(r->revealed_by)));

		for (j = 0; j < r->nitems; j++, nrows++)
		{
			columns[0][nrows] = Int64GetDatum(r->client_id);
			columns[1][nrows] = Int64GetDatum(r->order_id);
			columns[2][nrows] = Int64GetDatum(r->item_ids[j]);
			columns[3][nrows] = Int64GetDatum(r->unit_ids[j]);
			columns[4][nrows] = TimestampTzGetDatum(r->revealed_at);
			columns[5][nrows] = role;
		}
	}
	for (c = 0; c < 4; c++)
		args[c] = int8_array(columns[c], nrows, INT8OID);
	args[4] = int8_array(columns[4], nrows, TIMESTAMPTZOID);
	args[5] = PointerGetDatum(construct_array(columns[5], nrows, TEXTOID, -1, false,
											  TYPALIGN_INT));

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "orders reveal audit worker: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, insert);
	/* Parsed and planned once per worker (the plan cache revalidates it). */
	if (insert_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(insert, 6, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "orders reveal audit worker: could not prepare the insert: %s",
				 SPI_result_code_string(SPI_result));
		insert_plan = plan;
	}
	rc = SPI_execute_plan(insert_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT || SPI_processed != (uint64) nrows)
		elog(ERROR, "orders reveal audit worker: insert returned %s, %llu rows of %d",
			 SPI_result_code_string(rc), (unsigned long long) SPI_processed, nrows);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * before_shmem_exit of the worker: fail what it had taken (its backends
 * fail closed rather than wait for the timeout), wake every waiter of its
 * database (one of them starts a new worker), and detach.
 */
static void
worker_detach(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	AuditWorker *w;
	int			i;

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	w = my_worker_entry();
	/* Left when idle: a successor may have taken requests already. */
	if (w == NULL)
	{
		LWLockRelease(audit->lock);
		return;
	}
	for (i = 0; i < audit->nrequests; i++)
		if (audit->requests[i].database == worker_database &&
			audit->requests[i].state == AUDIT_TAKEN)
			audit->requests[i].state = AUDIT_FAILED;
	w->pid = 0;
	w->latch = NULL;
	w->start_requested = 0;
	LWLockRelease(audit->lock);
	for (i = 0; i < audit->nrequests; i++)
		if (audit->requests[i].database == worker_database &&
			audit->requests[i].state != AUDIT_FREE)
			ConditionVariableBroadcast(&audit->requests[i].done);
}

/* Attach as the database's worker; false if another one already is. */
static bool
worker_attach(void)
{
	AuditWorker *w;
	bool		attached = false;

	LWLockAcquire(audit->lock, LW_EXCLUSIVE);
	w = worker_entry(worker_database, GetCurrentTimestamp());
	if (w != NULL && w->pid == 0)
	{
		w->pid = MyProcPid;
		w->latch = MyLatch;
		w->start_requested = 0;
		attached = true;
	}
	LWLockRelease(audit->lock);
	return attached;
}

void
orders_reveal_audit_main(Datum main_arg)
{
	MemoryContext round_context;
	TimestampTz idle_since;
	AuditBatch	batch;

	worker_database = DatumGetObjectId(main_arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(worker_database, InvalidOid, 0);
	pgstat_report_appname("orders reveal audit worker");

	/* Durable is the point: an asynchronous commit would not do. */
	if (synchronous_commit == SYNCHRONOUS_COMMIT_OFF)
		SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);

	if (audit == NULL || !worker_attach())
		proc_exit(0);
	before_shmem_exit(worker_detach, (Datum) 0);
	ereport(DEBUG1, (errmsg_internal("orders reveal audit worker attached")));

	batch.slots = MemoryContextAlloc(TopMemoryContext, audit->nrequests * sizeof(int));
	batch.taken = MemoryContextAlloc(TopMemoryContext,
									 audit->nrequests * sizeof(AuditRequest));
	round_context = AllocSetContextCreate(TopMemoryContext, "orders reveal audit round",
										  ALLOCSET_DEFAULT_SIZES);
	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		bool		leave;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (synchronous_commit == SYNCHRONOUS_COMMIT_OFF)
				SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);
		}

		MemoryContextReset(round_context);
		MemoryContextSwitchTo(round_context);
		leave = TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), AUDIT_IDLE_EXIT_MS);
		if (take_batch(&batch, leave))
			proc_exit(0);
		if (batch.nrequests > 0)
		{
			volatile AuditState outcome = AUDIT_COMMITTED;

			PG_TRY();
			{
				write_batch(&batch);
			}
			PG_CATCH();
			{
				/* Log it, roll back, fail the batch, carry on. */
				HOLD_INTERRUPTS();
				MemoryContextSwitchTo(round_context);
				EmitErrorReport();
				AbortCurrentTransaction();
				FlushErrorState();
				RESUME_INTERRUPTS();
				pgstat_report_activity(STATE_IDLE, NULL);
				outcome = AUDIT_FAILED;
			}
			PG_END_TRY();
			MemoryContextSwitchTo(round_context);
			finish_batch(&batch, outcome);
			idle_since = GetCurrentTimestamp();
			continue;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 AUDIT_IDLE_EXIT_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
