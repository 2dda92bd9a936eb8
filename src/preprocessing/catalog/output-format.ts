/** Which files the built-in transform writes its tables as. */
export enum OutputFormat {
  /** CSV files named by run id (the walkthrough's outputs). */
  CSV = 'CSV',
  /** Parquet tables under `<outputPrefix>tables/` instead of the CSV files. */
  PARQUET = 'PARQUET',
  /** Both: the CSV files and the Parquet tables. */
  CSV_AND_PARQUET = 'CSV_AND_PARQUET',
}

/** The value of the pod's `OUTPUT_FORMAT` environment variable, as the processor reads it. */
export function outputFormatEnv(format: OutputFormat): string {
  switch (format) {
    case OutputFormat.CSV: return 'csv';
    case OutputFormat.PARQUET: return 'parquet';
    case OutputFormat.CSV_AND_PARQUET: return 'both';
  }
}

/** Whether the processor writes the Parquet tables (that a catalog describes). */
export function writesParquet(format: OutputFormat): boolean {
  return format !== OutputFormat.CSV;
}
