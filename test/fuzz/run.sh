#!/bin/sh
# make fuzz [SECONDS_TO_RUN=60]: build each libFuzzer target (the label
# parser, the token parser) with AddressSanitizer and
# UndefinedBehaviorSanitizer and run each for SECONDS_TO_RUN seconds.
set -eu
cd "$(dirname "$0")"
seconds=${SECONDS_TO_RUN:-60}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

clang $flags -o fuzz_labels fuzz_labels.c ../../src/labels.c
mkdir -p corpus-labels
for w in delivered Delivered REALTIME instant code_with_pin PARTIALLY_DELIVERED; do
	printf '%s' "$w" > "corpus-labels/seed-$w"
done
./fuzz_labels -max_total_time="$seconds" -max_len=128 corpus-labels

clang $flags -o fuzz_jwt fuzz_jwt.c ../../src/jwt.c
mkdir -p corpus-jwt
printf '%s' 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxfQ.HYfzqBpLbCOo950TeHdytWxg8UHtAmEQCW7ITVky6Gc' > corpus-jwt/seed-token
printf '%s' 'Zm9vYmE' > corpus-jwt/seed-b64
./fuzz_jwt -max_total_time="$seconds" -max_len=512 corpus-jwt
