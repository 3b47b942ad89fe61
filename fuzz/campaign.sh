#!/usr/bin/env bash
# Long fuzzing campaign over every target (or the ones named), on the stable toolchain.
#
#   fuzz/campaign.sh [-t SECONDS] [-j PARALLEL] [TARGET...]
#
# Each target runs for SECONDS (default 600) with its working corpus in fuzz/corpus/<target>
# (not committed) and the committed seeds and regressions as read-only inputs. Logs go to
# fuzz/logs/<target>.log; a summary line per target gives the exec count and the outcome.
# Crashes land in fuzz/artifacts/<target>/: copy each into fuzz/regressions/<target>/ once
# fixed, so `cargo test` replays it forever. Exit status is non-zero if any target found
# something. For AddressSanitizer (nightly-only flags), set SANITIZER=address and
# RUSTC_BOOTSTRAP=1 in the environment.
set -euo pipefail
cd "$(dirname "$0")"

seconds=600
parallel=1
while getopts "t:j:" opt; do
  case "$opt" in
    t) seconds="$OPTARG" ;;
    j) parallel="$OPTARG" ;;
    *) echo "usage: $0 [-t SECONDS] [-j PARALLEL] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
sanitizer="${SANITIZER:-none}"

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
mkdir -p logs
cargo fuzz build -s "$sanitizer"

run_one() {
  local target="$1" seconds="$2" sanitizer="$3"
  mkdir -p "corpus/$target" "regressions/$target"
  if cargo fuzz run -s "$sanitizer" "$target" "corpus/$target" "seeds/$target" "regressions/$target" \
      -- -max_total_time="$seconds" -print_final_stats=1 >"logs/$target.log" 2>&1; then
    outcome="no finding"
  else
    outcome="FINDING (see fuzz/logs/$target.log and fuzz/artifacts/$target/)"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$target.log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "corpus/$target" -type f | wc -l)
  echo "$target: $execs execs in ${seconds}s, corpus $corpus, $outcome"
}
export -f run_one

printf '%s\n' "${targets[@]}" \
  | xargs -P "$parallel" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$sanitizer" \
  | tee logs/summary.txt
! grep -q FINDING logs/summary.txt
