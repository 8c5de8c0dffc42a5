-- what: pgcrypto encrypt(..., 'aes'): raw AES-256-CBC, no nonce, no authentication, key passed in
SELECT sum(length(public.encrypt(convert_to(c.plain, 'UTF8'), CAST(:rawkey AS bytea), 'aes'))) FROM bench.codes c;
