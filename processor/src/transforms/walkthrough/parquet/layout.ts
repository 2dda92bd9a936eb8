/**
 * Which formats the walkthrough's tables are written in, and where the Parquet files go: Hive-style
 * partitions by run date, so a query engine (Athena with partition projection, DuckDB or Spark with
 * hive partitioning) sees every run of a table under one folder (SPEC §15).
 */

/** csv: the walkthrough's files (default); parquet: Parquet tables instead; both. */
export const OUTPUT_FORMATS = ['csv', 'parquet', 'both'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function writesCsv(format: OutputFormat): boolean {
  return format !== 'parquet';
}

export function writesParquet(format: OutputFormat): boolean {
  return format !== 'csv';
}

/** The tables written as Parquet (quality_metrics stays JSON, rejected_rows CSV). */
export const PARQUET_TABLES = ['cleaned_data', 'transformed_data', 'department_statistics'] as const;
export type ParquetTable = (typeof PARQUET_TABLES)[number];

/** `tables/<name>/run_date=YYYY-MM-DD/<runId>.parquet`, relative to the output prefix or directory. */
export function tableFileName(table: ParquetTable, runDate: string, runId: string): string {
  return `tables/${table}/run_date=${runDate}/${runId}.parquet`;
}

/** The run date of a run whose processing_timestamp is `timestamp` (ISO 8601, UTC): its first 10 characters. */
export function runDateOf(timestamp: string): string {
  const date = timestamp.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`not an ISO 8601 timestamp: ${timestamp}`);
  return date;
}
