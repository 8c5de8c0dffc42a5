-- The limits: the client id of the bare order inserts; the writers of the
-- write set (client ids 1 .. 8, a funded USD wallet each).
SELECT bench.param('limit', 'writer', 1);  -- any id: no foreign key
INSERT INTO lim.wallets (client_id, currency, balance)
SELECT g, 'USD', 100000000000 FROM generate_series(1, 8) AS g;
SELECT bench.param('writeset', 'writer', 1);
