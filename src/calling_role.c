/*
 * calling_role.c
 *		orders.calling_role(): the role that issued the statement.
 *
 * Inside a SECURITY DEFINER function current_user is the function's owner;
 * audit rows want the caller: the outer role (GetOuterUserId), i.e. the
 * session's role after any SET ROLE, as the lifecycle history records it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(calling_role);

Datum
calling_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(GetUserNameFromId(GetOuterUserId(), false)));
}
