"""The processor's Parquet tables read with pyarrow and DuckDB (SPEC §15), run by run.sh beside it.

  check.py compare DIR...         each DIR: one run with --output-format both; every table's Parquet
                                  file equals its CSV read with the same types, in pyarrow (ordered,
                                  cell by cell) and in DuckDB (as multisets), with the types of SPEC §15
  check.py hive DIR ROWS_BY_DATE  DIR: runs on different dates with --output-format parquet; DuckDB's
                                  read_parquet over tables/cleaned_data/*/*.parquet with
                                  hive_partitioning returns each run's rows with run_date set
                                  (ROWS_BY_DATE: 2025-01-01=5,2025-01-02=5)
"""
import glob
import json
import os
import sys

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TABLES = ["cleaned_data", "transformed_data", "department_statistics"]
INT64 = {"id", "address_length"}
DOUBLE = {"age", "salary", "bonus", "average_salary", "average_age"}
DUCKDB_TYPE = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.string(): "VARCHAR"}


def arrow_type(name):
    if name in INT64:
        return pa.int64()
    if name in DOUBLE:
        return pa.float64()
    return pa.string()


def run_files(run_dir):
    """(table, parquet path, csv path) of a run directory, from its manifest."""
    [manifest_path] = glob.glob(os.path.join(run_dir, "manifest_*.json"))
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    outputs = manifest["outputs"]
    for table in TABLES:
        [parquet] = [o["key"] for o in outputs if o["name"] == table and o.get("format") == "parquet"]
        [csv] = [o["key"] for o in outputs if o["name"] == table and "format" not in o]
        yield table, os.path.join(run_dir, parquet), os.path.join(run_dir, csv)


def csv_with_types(path, names):
    """The CSV read with the Parquet types: an empty cell is null, inf/-inf are infinities."""
    types = {n: arrow_type(n) for n in names}
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
        ),
    )


def compare(run_dirs):
    con = duckdb.connect()
    checked = 0
    for run_dir in run_dirs:
        for table, parquet_path, csv_path in run_files(run_dir):
            parquet = pq.read_table(parquet_path)
            names = parquet.schema.names
            expected_schema = pa.schema([pa.field(n, arrow_type(n)) for n in names])
            assert parquet.schema.remove_metadata() == expected_schema, f"{parquet_path}: {parquet.schema} != {expected_schema}"
            csv = csv_with_types(csv_path, names)
            assert parquet.num_rows == csv.num_rows, f"{parquet_path}: {parquet.num_rows} rows, CSV {csv.num_rows}"
            assert parquet.equals(csv), f"pyarrow: {parquet_path} differs from {csv_path}"
            metadata = pq.ParquetFile(parquet_path).metadata
            for g in range(metadata.num_row_groups):
                for c in range(metadata.num_columns):
                    column = metadata.row_group(g).column(c)
                    assert column.compression == "SNAPPY" and column.is_stats_set, f"{parquet_path}: row group {g} column {c}"
                    assert column.statistics.null_count is not None

            columns = ", ".join(f"'{n}': '{DUCKDB_TYPE[arrow_type(n)]}'" for n in names)
            from_csv = f"read_csv('{csv_path}', header = true, auto_detect = false, columns = {{{columns}}}, quote = '\"', escape = '\"')"
            from_parquet = f"read_parquet('{parquet_path}', hive_partitioning = false)"
            described = con.execute(f"DESCRIBE SELECT * FROM {from_parquet}").fetchall()
            assert [(d[0], d[1]) for d in described] == [(n, DUCKDB_TYPE[arrow_type(n)]) for n in names], described
            for a, b in ((from_parquet, from_csv), (from_csv, from_parquet)):
                [(extra,)] = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchall()
                assert extra == 0, f"DuckDB: {extra} rows of {a} are not in {b}"
            [(rows,)] = con.execute(f"SELECT count(*) FROM {from_parquet}").fetchall()
            assert rows == csv.num_rows
            print(f"{table}: {rows} rows, {metadata.num_row_groups} row group(s): pyarrow and DuckDB read the CSV's values ({parquet_path})")
            checked += 1
    return checked


def hive(tables_dir, rows_by_date):
    expected = sorted((d, int(n)) for d, n in (p.split("=") for p in rows_by_date.split(",")))
    pattern = os.path.join(tables_dir, "tables", "cleaned_data", "*", "*.parquet")
    query = f"SELECT CAST(run_date AS VARCHAR), count(*) FROM read_parquet('{pattern}', hive_partitioning = true) GROUP BY run_date ORDER BY 1"
    print(query)
    got = duckdb.connect().execute(query).fetchall()
    assert got == expected, f"{got} != {expected}"
    print(f"DuckDB with hive_partitioning: {got}")


def main(argv):
    if argv[1:2] == ["compare"] and len(argv) > 2:
        n = compare(argv[2:])
        print(f"{n} Parquet tables equal their CSV in pyarrow {pa.__version__} and DuckDB {duckdb.__version__}")
    elif argv[1:2] == ["hive"] and len(argv) == 4:
        hive(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
