#!/usr/bin/env bash
# Runs the whole test suite: builds, runs every test, and prints "N passed, N failed" from the TRX results.
# Usage: ./test.sh [extra arguments for the test runner, e.g. --filter-class "*Store*"]
set -uo pipefail
cd "$(dirname "$0")"

# The dashboard's browser tests drive Debian's Chromium.
[ -x /usr/bin/chromium ] || bash .ci/chromium.sh

results=$(mktemp -d "${TMPDIR:-/tmp}/session-mesh-results.XXXXXX")
trap 'rm -rf "$results"' EXIT
# A throwaway PostgreSQL for the PostgreSQL tests (exports SESSION_MESH_TEST_POSTGRES), stopped at exit; if it cannot start, those tests fail saying so.
eval "$(.ci/postgres.sh start)" || echo "test.sh: the test PostgreSQL did not start (.ci/postgres.sh)" >&2
trap 'rm -rf "$results"; .ci/postgres.sh stop' EXIT

bash .ci/curl.sh  # for the SKILL.md examples test
# Every project of the solution compiles, with warnings as errors: the bench projects too, which no test builds.
dotnet build session-mesh.slnx --nologo -v quiet
built=$?
dotnet test --project tests/SessionMesh.Tests --report-trx --results-directory "$results" "$@"
status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  # Name each failed test, so a CI log that keeps only its tail still says which one broke.
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed -n 's/.* testName="\([^"]*\)".*/FAILED: \1/p'
done
if [ "$failed" -gt 0 ]; then
  # The results go with the temp dir at exit: keep them, so a failure's message and stack can be read afterwards.
  kept="${TMPDIR:-/tmp}/session-mesh-failed-results-$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$kept" && cp "$results"/*.trx "$kept"/ && echo "test.sh: the results of this run (TRX, with each failure's message) are kept in $kept"
fi
if [ "$built" -ne 0 ]; then
  echo "FAILED: dotnet build session-mesh.slnx (see the errors above)"
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The run broke before or outside a test (build error, crash): count it as a failure.
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$built" -eq 0 ] && [ "$failed" -eq 0 ]
