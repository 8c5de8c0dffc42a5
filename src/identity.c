/*
 * identity.c
 *		The authenticated API client of the current transaction, kept in
 *		backend memory.
 *
 * Row-level security and the API layer read the client through
 * orders.current_client_id().  It is deliberately not a setting: any
 * session can SET or set_config() a custom GUC, and whoever controls the
 * value row-level security reads controls which rows are visible.  Here the
 * only way in is orders.set_current_client(), which
 *
 *	 - is granted to nobody (the schema revokes EXECUTE from PUBLIC), and
 *	 - refuses to run unless the current user is the extension's owner (or
 *	   a superuser): from an API session that is only true inside a
 *	   SECURITY DEFINER function of the extension, i.e. inside the
 *	   authentication functions, after they verified a key or a token.
 *
 * The identity is transactional: it vanishes at the end of the transaction
 * (commit, abort or prepare), and a subtransaction that set it and then
 * aborted restores what the parent had, exactly like a SET LOCAL would.
 * Parallel workers do not inherit it, so orders.current_client_id() is
 * declared PARALLEL RESTRICTED.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"

#include "orders.h"

/* One value of the identity, and the subtransaction level that set it. */
typedef struct IdentityFrame
{
	int64		client_id;
	int64		api_key_id;		/* orders.api_keys.id used to authenticate */
	char		method;			/* 'k' key + secret, 't' bearer token */
	int			nest_level;
	struct IdentityFrame *saved;	/* the value an abort would restore */
} IdentityFrame;

/* Allocated in TopTransactionContext: gone with the transaction. */
static IdentityFrame *current = NULL;

static void
identity_xact_callback(XactEvent event, void *arg pg_attribute_unused())
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			current = NULL;
			break;
		default:
			break;
	}
}

static void
identity_subxact_callback(SubXactEvent event,
						  SubTransactionId mySubid pg_attribute_unused(),
						  SubTransactionId parentSubid pg_attribute_unused(),
						  void *arg pg_attribute_unused())
{
	int			level = GetCurrentTransactionNestLevel();

	if (current == NULL)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* Undo every value set at this level or deeper. */
		while (current != NULL && current->nest_level >= level)
			current = current->saved;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB && current->nest_level >= level)
	{
		/*
		 * The value now belongs to the parent; a value the parent itself had
		 * set is superseded (an abort of the parent's level restores what was
		 * there before it, not the parent's own earlier value).
		 */
		while (current->saved != NULL && current->saved->nest_level >= level - 1)
			current->saved = current->saved->saved;
		current->nest_level = level - 1;
	}
}

void
orders_identity_init(void)
{
	RegisterXactCallback(identity_xact_callback, NULL);
	RegisterSubXactCallback(identity_subxact_callback, NULL);
}

/* The owner of the extension "orders", looked up in pg_extension. */
static Oid
extension_owner(void)
{
	Oid			owner = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("orders"));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * orders.current_client_id() RETURNS bigint: the authenticated client of
 * this transaction, NULL when none.
 */
PG_FUNCTION_INFO_V1(identity_current_client_id);
Datum
identity_current_client_id(PG_FUNCTION_ARGS)
{
	if (current == NULL || current->client_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current->client_id);
}

/*
 * orders.current_api_key_id() RETURNS bigint: the key the client
 * authenticated with (directly or through a token), NULL when none.
 */
PG_FUNCTION_INFO_V1(identity_current_api_key_id);
Datum
identity_current_api_key_id(PG_FUNCTION_ARGS)
{
	if (current == NULL || current->client_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current->api_key_id);
}

/*
 * orders.current_auth_method() RETURNS text: 'key' or 'token', NULL when
 * nobody is authenticated.
 */
PG_FUNCTION_INFO_V1(identity_current_auth_method);
Datum
identity_current_auth_method(PG_FUNCTION_ARGS)
{
	if (current == NULL || current->client_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(current->method == 'k' ? "key" : "token"));
}

/*
 * Make (client_id, api_key_id, method) this (sub)transaction level's
 * identity; client_id 0 stands for nobody.  Frames live in
 * TopTransactionContext and are popped by the (sub)transaction callbacks.
 */
static void
identity_push(int64 client_id, int64 api_key_id, char method)
{
	int			level = GetCurrentTransactionNestLevel();
	IdentityFrame *frame;

	if (current != NULL && current->nest_level == level)
		frame = current;		/* overwrite this level's value */
	else
	{
		frame = MemoryContextAlloc(TopTransactionContext, sizeof(IdentityFrame));
		frame->saved = current;
		frame->nest_level = level;
	}
	frame->client_id = client_id;
	frame->api_key_id = api_key_id;
	frame->method = method;
	current = frame;
}

/*
 * orders.set_current_client(client_id bigint, api_key_id bigint, method text)
 * RETURNS void: make a client the authenticated one until the end of the
 * transaction.  Only the extension's own SECURITY DEFINER functions may.
 */
PG_FUNCTION_INFO_V1(identity_set_current_client);
Datum
identity_set_current_client(PG_FUNCTION_ARGS)
{
	Oid			user = GetUserId();
	int64		client_id = PG_GETARG_INT64(0);
	int64		api_key_id = PG_GETARG_INT64(1);
	char	   *method = text_to_cstring(PG_GETARG_TEXT_PP(2));

	if (user != extension_owner() && !superuser_arg(user))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only the authentication functions of orders may set the current client"),
				 errhint("Authenticate through api.pre_request() with an API key or a bearer token.")));
	if (client_id <= 0 || api_key_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("client id and API key id must be positive")));
	if (strcmp(method, "key") != 0 && strcmp(method, "token") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("authentication method must be \"key\" or \"token\", not \"%s\"",
						method)));

	identity_push(client_id, api_key_id, method[0]);
	PG_RETURN_VOID();
}

/*
 * orders.clear_current_client() RETURNS void: nobody is authenticated from
 * here to the end of the (sub)transaction.  Authentication starts with it,
 * so that a request without credentials never runs as the client of an
 * earlier request of the same transaction (a SQL caller may make several
 * api.dispatch calls in one).  Owner only, like set_current_client.
 */
PG_FUNCTION_INFO_V1(identity_clear_current_client);
Datum
identity_clear_current_client(PG_FUNCTION_ARGS)
{
	Oid			user = GetUserId();

	if (user != extension_owner() && !superuser_arg(user))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only the authentication functions of orders may clear the current client")));
	if (current != NULL && current->client_id != 0)
		identity_push(0, 0, 0);
	PG_RETURN_VOID();
}
