/*
 * render-labels.c
 *		Print what src/labels.c says about the enum types, for
 *		scripts/render-labels.sh: "sql" prints the COMMENT ON TYPE statements
 *		of schema/11_enum_comments.sql, "md" the table of docs/types.md.
 *		Built on the host with src/labels.c alone, which is pure C.
 */
#include <stdio.h>
#include <string.h>

#include "labels.h"

/* Print s as the body of an SQL string literal (quotes doubled). */
static void
print_sql_text(const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\'')
			putchar('\'');
		putchar(*s);
	}
}

/* "A, B, C", or in SQL text with quotes doubled. */
static void
print_labels(const OrdersLabelSet *set, int sql)
{
	int			i;

	for (i = 0; i < set->nlabels; i++)
	{
		if (i > 0)
			fputs(", ", stdout);
		if (sql)
			print_sql_text(set->labels[i]);
		else
			fputs(set->labels[i], stdout);
	}
}

/* "ALIAS = LABEL, ..." */
static void
print_aliases(const OrdersLabelSet *set, int sql)
{
	int			i;

	for (i = 0; i < set->naliases; i++)
	{
		const char *label = orders_label_name(set, set->aliases[i].code);

		if (i > 0)
			fputs(", ", stdout);
		if (sql)
		{
			print_sql_text(set->aliases[i].alias);
			fputs(" = ", stdout);
			print_sql_text(label);
		}
		else
			printf("%s = %s", set->aliases[i].alias, label);
	}
}

static void
render_sql(void)
{
	int			i;

	for (i = 0; i < orders_n_label_sets; i++)
	{
		const OrdersLabelSet *set = orders_all_label_sets[i];

		printf("COMMENT ON TYPE orders.%s IS\n'", set->type_name);
		print_sql_text(set->description);
		fputs(": ", stdout);
		print_labels(set, 1);
		if (set->naliases > 0)
		{
			fputs("; input aliases: ", stdout);
			print_aliases(set, 1);
		}
		puts("';");
	}
}

static void
render_md(void)
{
	int			i;

	puts("| type | what it is | labels (in sort order) | aliases |");
	puts("|---|---|---|---|");
	for (i = 0; i < orders_n_label_sets; i++)
	{
		const OrdersLabelSet *set = orders_all_label_sets[i];

		printf("| `%s` | %s | ", set->type_name, set->description);
		print_labels(set, 0);
		fputs(" | ", stdout);
		print_aliases(set, 0);
		puts(" |");
	}
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "sql") == 0)
		render_sql();
	else if (argc == 2 && strcmp(argv[1], "md") == 0)
		render_md();
	else
	{
		fprintf(stderr, "usage: %s sql|md\n", argv[0]);
		return 2;
	}
	return ferror(stdout) ? 1 : 0;
}
