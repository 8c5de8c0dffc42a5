/*
 * worker.c
 *		The background worker of orders: every orders.worker_interval it runs
 *		orders.run_maintenance() in the database orders.worker_database
 *		(expiry, lease recovery, retries, restock, the sandbox vendor).
 *
 * Registered only when orders is in shared_preload_libraries.  An error in
 * a round is logged and the next round runs as usual; a crash of the
 * worker (or of the server) starts it again after WORKER_RESTART_SECONDS.
 * Where preloading is not possible, an operator schedules
 * orders.run_maintenance() instead: the worker adds nothing to it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "orders.h"
#include "fulfilment_settings.h"
#include "reveal_audit.h"

/* Seconds the postmaster waits before starting a worker that died. */
#define WORKER_RESTART_SECONDS 5

static char *worker_database = NULL;
static int	worker_interval_s = 10;

PGDLLEXPORT void orders_worker_main(Datum main_arg);

void
orders_worker_init(void)
{
	BackgroundWorker worker;

	/* The reveal audit's workers, started on demand (src/reveal_audit.c). */
	orders_reveal_audit_init();

	DefineCustomIntVariable("orders.worker_interval",
							"Time between two maintenance rounds of the orders background worker.",
							NULL, &worker_interval_s, 10, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	/*
	 * A postmaster-level setting can only be defined while preloading:
	 * loaded later (CREATE EXTENSION without preload) there is no worker.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("orders.worker_database",
							   "Database in which the orders background worker runs maintenance; empty: no worker.",
							   "Needs orders in shared_preload_libraries.",
							   &worker_database, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (worker_database == NULL || worker_database[0] == '\0')
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = WORKER_RESTART_SECONDS;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "orders");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "orders_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "orders maintenance worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "orders maintenance worker");
	RegisterBackgroundWorker(&worker);
}

/*
 * One round: orders.run_maintenance() in its own transaction, if the
 * extension is installed.  Returns false when it is not.  Errors propagate
 * to the caller.
 */
static bool
maintenance_round(void)
{
	static const char *const query = "SELECT orders.run_maintenance()::text";
	bool		installed;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "orders worker: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());

	rc = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'orders'", true, 1);
	installed = (rc == SPI_OK_SELECT && SPI_processed == 1);
	if (installed)
	{
		pgstat_report_activity(STATE_RUNNING, query);
		rc = SPI_execute(query, false, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "orders worker: run_maintenance returned %s",
				 SPI_result_code_string(rc));
		ereport(DEBUG1,
				(errmsg_internal("orders worker: %s",
								 SPI_getvalue(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1))));
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return installed;
}

void
orders_worker_main(Datum main_arg pg_attribute_unused())
{
	/* volatile: set inside PG_TRY, read after a longjmp */
	volatile bool said_not_installed = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(worker_database, NULL, 0);
	pgstat_report_appname("orders maintenance worker");
	ereport(LOG,
			(errmsg("orders maintenance worker started in database \"%s\", every %d s",
					worker_database, worker_interval_s)));

	for (;;)
	{
		MemoryContext round_context = CurrentMemoryContext;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		PG_TRY();
		{
			bool		installed = maintenance_round();

			if (!installed && !said_not_installed)
				ereport(LOG,
						(errmsg("orders maintenance worker: extension orders is not installed in database \"%s\"; waiting",
								worker_database)));
			said_not_installed = !installed;
		}
		PG_CATCH();
		{
			/* Log it, roll back, and carry on with the next round. */
			HOLD_INTERRUPTS();
			MemoryContextSwitchTo(round_context);
			EmitErrorReport();
			AbortCurrentTransaction();
			FlushErrorState();
			RESUME_INTERRUPTS();
			pgstat_report_activity(STATE_IDLE, NULL);
			ereport(LOG,
					(errmsg("orders maintenance worker: round failed, next round in %d s",
							worker_interval_s)));
		}
		PG_END_TRY();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 worker_interval_s * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
