#!/usr/bin/env bash
# The processor's Parquet tables read by pyarrow and DuckDB (PyPI, pinned in requirements.txt beside
# this file, in a virtualenv of its own under .scratch/parquet-readers/, gitignored): check.py.
#  - every pandas fixture input (test/tools/pandas-fixtures/) and a generated input of 800,000 rows
#    (several row groups, two threads), each run with --output-format both: each table's Parquet
#    file equals its CSV read with the same types;
#  - two runs on two dates into one output: DuckDB's read_parquet over
#    tables/cleaned_data/*/*.parquet with hive_partitioning returns both, run_date set.
# Used by .ci/run: `bash test/processor/transforms/walkthrough/parquet-readers/run.sh`.
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
here=test/processor/transforms/walkthrough/parquet-readers

dir=.scratch/parquet-readers
venv=$dir/venv
pyarrow_version=$(sed -n 's/^pyarrow==//p' "$here/requirements.txt")
duckdb_version=$(sed -n 's/^duckdb==//p' "$here/requirements.txt")
if ! "$venv/bin/python" -c "import duckdb, pyarrow; assert (pyarrow.__version__, duckdb.__version__) == ('$pyarrow_version', '$duckdb_version')" 2>/dev/null; then
  mkdir -p "$dir"
  if ! /usr/bin/python3 -m venv "$venv" 2>/dev/null; then
    # Debian splits venv (ensurepip) out of python3.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    /usr/bin/python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
fi

npx projen processor:compile >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/parquet-readers-XXXXXX")
trap 'rm -rf "$out"' EXIT
preprocess() { node processor/lib/src/runtime/cli.js "$@" 2>"$out/last.log" || { cat "$out/last.log" >&2; return 1; }; }

runs=()
for input in test/tools/pandas-fixtures/*/input.csv; do
  name=$(basename "$(dirname "$input")")
  na=default
  [ "$name" = na-values-empty ] && na=empty
  preprocess --input "$input" --output "$out/$name" --run-id 20241221-224904 --output-format both --na-values "$na"
  runs+=("$out/$name")
done
node processor/lib/tools/generate-mock-data.js --rows 800000 --seed 26 --out "$out/generated.csv" >/dev/null
preprocess --input "$out/generated.csv" --output "$out/generated" --run-id 20241221-224904 --output-format both --threads 2
runs+=("$out/generated")
"$venv/bin/python" "$here/check.py" compare "${runs[@]}"

edges=test/tools/pandas-fixtures/edges/input.csv
rows=$(node -p 'require(process.argv[1]).total_rows' "$out/edges/manifest_20241221-224904.json")
preprocess --input "$edges" --output "$out/hive" --run-id 20250101-080000 --output-format parquet
preprocess --input "$edges" --output "$out/hive" --run-id 20250102-090000 --output-format parquet
"$venv/bin/python" "$here/check.py" hive "$out/hive" "2025-01-01=$rows,2025-01-02=$rows"
