-- The labels of an enum type, from the same table the type's I/O reads.
CREATE FUNCTION orders.labels(regtype) RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'enum_labels' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.labels(regtype) IS
'the canonical labels of an enum type of orders, in sort order';
