/*
 * fuzz_labels.c
 *		libFuzzer target for the label parser (src/labels.c).
 *
 * For every label set: parsing must never read out of bounds, must return
 * -1 or a valid code, and a code must print back to a label that parses to
 * the same code (the canonical form is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/labels.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			i;

	for (i = 0; i < orders_n_label_sets; i++)
	{
		const OrdersLabelSet *set = orders_all_label_sets[i];
		int			code = orders_label_parse(set, (const char *) data, size);
		const char *name;

		if (code == -1)
			continue;
		name = orders_label_name(set, code);
		if (code < -1 || name == NULL)
			abort();
		if (orders_label_parse(set, name, strlen(name)) != code)
			abort();
	}
	return 0;
}
