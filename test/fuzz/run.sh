#!/bin/sh
# make fuzz [SECONDS=60]: build the label parser's libFuzzer target with
# AddressSanitizer and UndefinedBehaviorSanitizer and run it.
set -eu
cd "$(dirname "$0")"
seconds=${SECONDS_TO_RUN:-60}
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o fuzz_labels fuzz_labels.c ../../src/labels.c
mkdir -p corpus-labels
for w in delivered Delivered REALTIME instant code_with_pin PARTIALLY_DELIVERED; do
	printf '%s' "$w" > "corpus-labels/seed-$w"
done
./fuzz_labels -max_total_time="$seconds" -max_len=128 corpus-labels
