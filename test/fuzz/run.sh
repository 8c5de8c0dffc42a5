#!/bin/sh
# make fuzz [SECONDS_TO_RUN=60]: build each parser's libFuzzer target with
# AddressSanitizer and UndefinedBehaviorSanitizer and run it (each target
# gets SECONDS_TO_RUN).
set -eu
cd "$(dirname "$0")"
seconds=${SECONDS_TO_RUN:-60}

# fuzz TARGET SOURCE: build TARGET from TARGET.c and SOURCE, run it on
# corpus-TARGET (seeded by the caller).
fuzz() {
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$1" "$1.c" "$2"
	./"$1" -max_total_time="$seconds" -max_len=4096 "corpus-$1"
}

mkdir -p corpus-fuzz_labels
for w in delivered Delivered REALTIME instant code_with_pin PARTIALLY_DELIVERED; do
	printf '%s' "$w" > "corpus-fuzz_labels/seed-$w"
done
fuzz fuzz_labels ../../src/labels.c

mkdir -p corpus-fuzz_vault_format
printf '# keys\n1:%s\n2:%s\n' "$(printf '0f%.0s' $(seq 32))" "$(printf 'a5%.0s' $(seq 32))" \
	> corpus-fuzz_vault_format/seed-keyfile
printf '\001\000\000\000\001nonce-nonce-ciphertexttag-tag-tag-tag' > corpus-fuzz_vault_format/seed-sealed
printf 'card_number' > corpus-fuzz_vault_format/seed-field
fuzz fuzz_vault_format ../../src/vault_format.c
