-- what: pgcrypto decrypt(..., 'aes'): raw AES-256-CBC, no authentication, key passed in
SELECT sum(length(public.decrypt(c.raw, CAST(:rawkey AS bytea), 'aes'))) FROM bench.codes c;
