-- The limit: the client id of the bare order inserts.
SELECT bench.param('limit', 'writer', 1);  -- any id: no foreign key
