#!/usr/bin/env bash
# CI step: build every cargo-fuzz target and run each briefly from its seed corpus; a crash, a
# failed property or a hang (one input over FUZZ_TIMEOUT seconds) fails the step.
# How to run them for longer, what each covers and what they found: docs/FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET="${FUZZ_SECONDS:-15}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
# Targets run side by side (each uses one core).
FUZZ_JOBS="${FUZZ_JOBS:-2}"

# Installed once per machine (cargo's bin dir is the cache); the pinned version is reused.
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# cargo-fuzz passes nightly-only flags to rustc; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
# No sanitizer: cairn forbids unsafe code, and an uninstrumented build is much quicker to build
# and to run. Line tables only, so a crash still has a readable backtrace.
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
FUZZ_FLAGS=(--sanitizer none)

start=$SECONDS
cargo fuzz build "${FUZZ_FLAGS[@]}"
echo "fuzz: built in $((SECONDS - start)) s"

# New inputs go to a scratch corpus (the first directory); the committed seeds are only read.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

run_target() {
  local target=$1
  mkdir -p "$scratch/$target"
  cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 \
    -print_final_stats=1 >"$scratch/$target.log" 2>&1
}

mapfile -t targets < <(cargo fuzz list)
for ((i = 0; i < ${#targets[@]}; i += FUZZ_JOBS)); do
  batch=("${targets[@]:i:FUZZ_JOBS}")
  pids=()
  for target in "${batch[@]}"; do
    run_target "$target" &
    pids+=("$!")
  done
  failed=()
  for j in "${!batch[@]}"; do
    target=${batch[j]}
    if wait "${pids[j]}"; then
      runs=$(grep -E '^stat::number_of_executed_units' "$scratch/$target.log" | awk '{print $2}')
      echo "fuzz: $target: ${runs:-?} runs in ${SECONDS_PER_TARGET} s, no crash"
    else
      failed+=("$target")
    fi
  done
  for target in "${failed[@]}"; do
    tail -n 80 "$scratch/$target.log"
    echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/;" \
      "reproduce with: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${FUZZ_FLAGS[*]} $target <that file>" >&2
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets passed; step took $((SECONDS - start)) s after installing"
