#!/bin/sh
# make fuzz [SECONDS_TO_RUN=60]: build each libFuzzer target with
# AddressSanitizer and UndefinedBehaviorSanitizer and run it that long.
#   fuzz_labels    the enum label parser (src/labels.c)
#   fuzz_jwt       the token parser (src/jwt.c)
#   fuzz_vault_format  the vault's key file and ciphertext parsers (src/vault_format.c)
#   fuzz_gateway   the gateway's request handling (gateway/json.c, utf8.c, request.c,
#                  the metrics' route of a path in metrics.c)
# Each target starts from its corpus (the seeds below plus whatever earlier
# runs kept).  A crash, a sanitizer report or a leak makes the target exit
# non-zero, and so this script and make fuzz: .ci/run runs it for 20 s per
# target and fails on that.  The failing input is left as crash-* (or
# leak-*) in test/fuzz/.
set -eu
cd "$(dirname "$0")"
seconds=${SECONDS_TO_RUN:-60}

# fuzz NAME MAX_LEN SOURCES...: build NAME from NAME.c and SOURCES, run it
# on corpus-NAME (seeded by the caller).
fuzz() {
	name=$1 max_len=$2
	shift 2
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$name" "$name.c" "$@"
	mkdir -p "corpus-$name"
	./"$name" -max_total_time="$seconds" -max_len="$max_len" "corpus-$name"
}

mkdir -p corpus-fuzz_labels corpus-fuzz_jwt corpus-fuzz_vault_format corpus-fuzz_gateway

for w in delivered Delivered REALTIME instant code_with_pin PARTIALLY_DELIVERED; do
	printf '%s' "$w" > "corpus-fuzz_labels/seed-$w"
done
fuzz fuzz_labels 128 ../../src/labels.c

printf '%s' 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxfQ.HYfzqBpLbCOo950TeHdytWxg8UHtAmEQCW7ITVky6Gc' > corpus-fuzz_jwt/seed-token
printf '%s' 'Zm9vYmE' > corpus-fuzz_jwt/seed-b64
fuzz fuzz_jwt 512 ../../src/jwt.c

printf '# keys\n1:%s\n2:%s\n' "$(printf '0f%.0s' $(seq 32))" "$(printf 'a5%.0s' $(seq 32))" \
	> corpus-fuzz_vault_format/seed-keyfile
printf '\001\000\000\000\001nonce-nonce-ciphertexttag-tag-tag-tag' > corpus-fuzz_vault_format/seed-sealed
printf 'card_number' > corpus-fuzz_vault_format/seed-field
fuzz fuzz_vault_format 4096 ../../src/vault_format.c

printf '%s' '{"data":{"productId":1001,"quantity":1,"denomination":25.5,"poNumber":"PO-1","topupData":{"topupPhoneCode":"+91"}}}' > corpus-fuzz_gateway/seed-order
printf '%s' '[1,-0.5e+3,true,false,null,"\u00e9\ud83d\ude00"]' > corpus-fuzz_gateway/seed-array
printf '%s' '/api/v1/orders?status=delivered&limit=20&page=1' > corpus-fuzz_gateway/seed-target
printf 'X-API-Key: k\nx-api-key: k2\nAccept: */*\n' > corpus-fuzz_gateway/seed-headers
printf '%s' '/api/v1/orders/12345' > corpus-fuzz_gateway/seed-route
# the route templates the metrics match paths against are generated
make -s -C ../.. gateway/openapi_json.c
fuzz fuzz_gateway 4096 ../../gateway/json.c ../../gateway/utf8.c \
	../../gateway/request.c ../../gateway/strbuf.c \
	../../gateway/metrics.c ../../gateway/openapi_json.c -lm
