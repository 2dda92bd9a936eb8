/**
 * The Parquet tables the built-in transform writes, as the Glue Data Catalog declares them: the
 * one definition that the Glue tables are built from and that tests compare with the schema of
 * the Parquet files the processor writes (SPEC §15). No CDK imports: plain data.
 *
 * Layout: `<outputPrefix>tables/<name>/run_date=YYYY-MM-DD/<runId>.parquet`.
 */

/** Hive types of the columns (Athena reads Parquet INT64 as `bigint`, DOUBLE as `double`, UTF-8 BYTE_ARRAY as `string`). */
export type TableColumnType = 'bigint' | 'double' | 'string';

/** One column of an output table: the Parquet file's column name (lower case, as Glue stores it) and its type. */
export interface TableColumn {
  readonly name: string;
  readonly type: TableColumnType;
  readonly comment: string;
}

/** One Parquet output of the built-in transform. */
export interface OutputTable {
  /** The table's name, and the folder under `<outputPrefix>tables/`. */
  readonly name: string;
  readonly description: string;
  readonly columns: readonly TableColumn[];
}

/** The partition column: the UTC date of the run, as the folder `run_date=YYYY-MM-DD` names it. */
export const RUN_DATE_COLUMN = 'run_date';
/** The Java date format of `run_date` values, for Athena's date projection. */
export const RUN_DATE_FORMAT = 'yyyy-MM-dd';
/** The folder under the output prefix that holds one folder per table. */
export const TABLES_FOLDER = 'tables/';

const CLEANED_COLUMNS: readonly TableColumn[] = [
  { name: 'id', type: 'bigint', comment: 'The input row\'s id.' },
  { name: 'name', type: 'string', comment: 'Name.' },
  { name: 'age', type: 'double', comment: 'Age; a missing age is the median of the valid ages.' },
  { name: 'salary', type: 'double', comment: 'Salary; a missing salary is the median of the valid salaries.' },
  { name: 'hire_date', type: 'string', comment: 'Hire date, as the input CSV holds it.' },
  { name: 'department', type: 'string', comment: 'Department; a missing department is Unknown.' },
  { name: 'bonus', type: 'double', comment: 'Bonus.' },
  { name: 'address', type: 'string', comment: 'From the profile JSON; empty when missing.' },
  { name: 'phone', type: 'string', comment: 'From the profile JSON; empty when missing.' },
  { name: 'email', type: 'string', comment: 'From the profile JSON; empty when missing.' },
];

/** The three Parquet outputs, in the order the processor writes them. */
export const OUTPUT_TABLES: readonly OutputTable[] = [
  {
    name: 'cleaned_data',
    description: 'Valid input rows, deduplicated, missing values filled, the profile JSON split into columns.',
    columns: CLEANED_COLUMNS,
  },
  {
    name: 'transformed_data',
    description: 'cleaned_data with the derived columns address_length, salary_category and age_group.',
    columns: [
      ...CLEANED_COLUMNS,
      { name: 'address_length', type: 'bigint', comment: 'Characters in address (0 when it is missing).' },
      { name: 'salary_category', type: 'string', comment: 'low (<= 50000), medium (<= 70000) or high (<= 100000); empty outside [0, 100000].' },
      { name: 'age_group', type: 'string', comment: 'Young, Early Career, Mid Career, Senior or Experienced; empty for a negative age.' },
    ],
  },
  {
    name: 'department_statistics',
    description: 'Average salary and age per department (the CSV\'s Department, Average Salary, Average Age).',
    columns: [
      { name: 'department', type: 'string', comment: 'Department (CSV header: Department).' },
      { name: 'average_salary', type: 'double', comment: 'Mean salary (CSV header: Average Salary).' },
      { name: 'average_age', type: 'double', comment: 'Mean age (CSV header: Average Age).' },
    ],
  },
];
