/*
 * lifecycle_sql.c
 *		The lifecycle rules published as SQL: orders.transitions(),
 *		orders.sub_status_rules() and orders.lifecycle_graph().
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "lifecycle_rules.h"

PG_FUNCTION_INFO_V1(lifecycle_transitions);
PG_FUNCTION_INFO_V1(lifecycle_sub_status_rules);
PG_FUNCTION_INFO_V1(lifecycle_graph);

Datum
lifecycle_transitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i,
				j;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < lifecycle_n_machines; i++)
	{
		const LifecycleMachine *m = lifecycle_machines[i];

		for (j = 0; j < m->nedges; j++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			values[0] = CStringGetTextDatum(m->name);
			if (m->edges[j].from)
				values[1] = CStringGetTextDatum(m->edges[j].from);
			else
				nulls[1] = true;
			values[2] = CStringGetTextDatum(m->edges[j].to);
			values[3] = CStringGetTextDatum(m->edges[j].reason);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

Datum
lifecycle_sub_status_rules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i,
				j,
				k;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < lifecycle_n_machines; i++)
	{
		const LifecycleMachine *m = lifecycle_machines[i];

		for (j = 0; j < m->npairs; j++)
		{
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};
			bool		final = false;

			for (k = 0; k < m->nfinal_subs; k++)
				if (strcmp(m->final_subs[k], m->pairs[j].sub_status) == 0)
					final = true;
			values[0] = CStringGetTextDatum(m->name);
			values[1] = CStringGetTextDatum(m->pairs[j].status);
			values[2] = CStringGetTextDatum(m->pairs[j].sub_status);
			values[3] = BoolGetDatum(final);
			values[4] = CStringGetTextDatum(m->pairs[j].reason);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* Graphviz DOT or Mermaid of one entity's status moves. */
Datum
lifecycle_graph(PG_FUNCTION_ARGS)
{
	const char *entity = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *format = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const LifecycleMachine *m = lifecycle_machine(entity);
	bool		dot;
	StringInfoData buf;
	int			j;

	if (m == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown lifecycle entity \"%s\"", entity),
				 errhint("Use order, order_item, inventory_unit or recharge.")));
	if (strcmp(format, "dot") == 0)
		dot = true;
	else if (strcmp(format, "mermaid") == 0)
		dot = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown graph format \"%s\"", format),
				 errhint("Use dot or mermaid.")));

	initStringInfo(&buf);
	if (dot)
		appendStringInfo(&buf,
						 "digraph %s {\n  rankdir=LR;\n"
						 "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
						 "  start [shape=point];\n", m->name);
	else
		appendStringInfoString(&buf, "stateDiagram-v2\n");
	for (j = 0; j < m->nedges; j++)
	{
		const LifecycleEdge *e = &m->edges[j];

		if (dot)
			appendStringInfo(&buf, "  %s -> %s;\n",
							 e->from ? e->from : "start", e->to);
		else
			appendStringInfo(&buf, "  %s --> %s\n",
							 e->from ? e->from : "[*]", e->to);
	}
	if (dot)
		appendStringInfoString(&buf, "}\n");
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}
