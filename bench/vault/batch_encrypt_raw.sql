SELECT count(encrypt(convert_to(code, 'UTF8'), bench_key(), 'aes')) FROM bench_codes;
