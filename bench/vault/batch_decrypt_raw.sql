SELECT count(convert_from(decrypt(raw, bench_key(), 'aes'), 'UTF8')) FROM bench_codes;
