#!/usr/bin/env python3
"""The walkthrough's preprocessing logic in pandas, as the seed wrote it: the reference that
processor/ is measured against (outputs compared by compare-outputs.ts, speed and memory by bench.ts).

Usage: python3 seed_preprocess.py <input.csv> <output-dir> <run-id> [--na-values default|empty]
Writes cleaned_data_<run>.csv, transformed_data_<run>.csv, department_statistics_<run>.csv and
quality_metrics_<run>.json to <output-dir>.

Deliberately idiomatic, whole-file pandas (read_csv → fillna → apply → pd.cut → groupby), with the
seed's quirks kept, so the comparison measures the seed and not an optimised rewrite:
  * cleaned_data is written, then read back for the transform step (as the seed does), so a
    missing address becomes NaN and address_length = len(str(NaN)) = 3. Our processor writes 0
    there (SPEC §2, defect 11): the one intended difference.
Departures:
  * the read-back keeps `phone` as text (dtype str). Without it pandas turns the 10-digit phone
    column into float64 when any phone is missing and writes `5551234567.0` in transformed_data,
    which no reader of the seed wants and SPEC §5 does not describe.
  * both read_csv calls get the missing-value tokens explicitly (keep_default_na=False): the
    walkthrough installs the current pandas, whose defaults are NA_TOKENS below; Debian's 1.5.3
    lacks `None`. `--na-values empty` makes only an empty cell missing (the processor's option of
    the same name).

Known pandas (1.5.3, Debian bookworm) behaviours where this reference, not SPEC §5, is off; none
occurs in generate-mock-data.ts's data, which is what parity is measured on:
  * read_csv's default float parser is not correctly rounded for 16+ significant digits (about 1
    value in 3 at 17 digits comes out 1 ulp off), so such inputs print back differently; our
    processor parses correctly rounded (as Python's float() does).
  * `1e400` in a float column makes 1.5.3 read the column as text (current pandas: inf), and a
    group mean over an infinite value followed by other values is NaN in 1.5.3 (current pandas:
    inf). processor/tools/pandas-fixtures.ts works around both when it makes the fixtures.
  * reading cleaned_data back makes a profile value that is a missing-value token (`"phone": "NA"`)
    missing in transformed_data while cleaned_data keeps the text; SPEC §5 keeps it as text in both
    (the parity cases avoid it, except with --na-values empty, where both keep it).
  * pandas keeps the input's column order; SPEC §5 fixes the output column order.
"""
import json
import os
import sys
from datetime import datetime

import pandas as pd

# The missing-value tokens of current pandas' read_csv (pandas 2; SPEC §5), plus the empty cell.
NA_TOKENS = [
    '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>',
    'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
]
NA_VALUES = {'default': NA_TOKENS + [''], 'empty': ['']}


def output_path(output_dir, name, run_id, ext):
    return os.path.join(output_dir, f"{name}_{run_id}.{ext}")


def main(argv):
    usage = "usage: seed_preprocess.py <input.csv> <output-dir> <run-id> [--na-values default|empty]"
    if len(argv) == 6 and argv[4] == '--na-values' and argv[5] in NA_VALUES:
        na_values = NA_VALUES[argv[5]]
    elif len(argv) == 4:
        na_values = NA_VALUES['default']
    else:
        print(usage, file=sys.stderr)
        return 2
    input_path, output_dir, run_id = argv[1:4]
    os.makedirs(output_dir, exist_ok=True)

    df = pd.read_csv(input_path, keep_default_na=False, na_values=na_values)
    print(f"✅ Dataset loaded: {df.shape}")

    print("📊 Filling missing values...")
    age_median = df['age'].median()
    salary_median = df['salary'].median()
    df['age'] = df['age'].fillna(age_median)
    df['salary'] = df['salary'].fillna(salary_median)
    df['department'] = df['department'].fillna('Unknown')

    print("🔧 Extracting profile fields...")
    df['profile'] = df['profile'].apply(lambda x: json.loads(x) if pd.notnull(x) else {})
    df['address'] = df['profile'].apply(lambda x: x.get('address', None))
    df['phone'] = df['profile'].apply(lambda x: x.get('phone', None))
    df['email'] = df['profile'].apply(lambda x: x.get('email', None))
    cleaned_df = df.drop(columns=['profile'])

    cleaned_path = output_path(output_dir, 'cleaned_data', run_id, 'csv')
    cleaned_df.to_csv(cleaned_path, index=False)
    print(f"✅ Saved: {os.path.basename(cleaned_path)}")

    transform_df = pd.read_csv(cleaned_path, dtype={'phone': str}, keep_default_na=False, na_values=na_values)
    transform_df['address_length'] = transform_df['address'].apply(lambda x: len(str(x)))

    bins = [0, 50000, 70000, 100000]
    labels = ['low', 'medium', 'high']
    transform_df['salary_category'] = pd.cut(df['salary'], bins=bins, labels=labels, include_lowest=True)

    age_bins = [0, 25, 35, 45, 55, float('inf')]
    age_labels = ['Young', 'Early Career', 'Mid Career', 'Senior', 'Experienced']
    transform_df['age_group'] = pd.cut(df['age'], bins=age_bins, labels=age_labels, include_lowest=True)

    transformed_path = output_path(output_dir, 'transformed_data', run_id, 'csv')
    transform_df.to_csv(transformed_path, index=False)
    print(f"✅ Saved: {os.path.basename(transformed_path)}")

    department_summary_report = df.groupby('department').agg({
        'salary': 'mean',
        'age': 'mean',
    }).reset_index()
    department_summary_report.columns = ['Department', 'Average Salary', 'Average Age']
    statistics_path = output_path(output_dir, 'department_statistics', run_id, 'csv')
    department_summary_report.to_csv(statistics_path, index=False)
    print(f"✅ Saved: {os.path.basename(statistics_path)}")

    quality_metrics = {
        'total_rows': int(len(transform_df)),
        'total_columns': int(len(transform_df.columns)),
        'missing_values_count': int(transform_df.isnull().sum().sum()),
        'duplicate_rows': int(transform_df.duplicated().sum()),
        'processing_timestamp': datetime.now().isoformat(),
    }
    metrics_path = output_path(output_dir, 'quality_metrics', run_id, 'json')
    with open(metrics_path, 'w') as f:
        json.dump(quality_metrics, f, indent=2)
    print(f"✅ Saved: {os.path.basename(metrics_path)}")
    print("✅ Preprocessing completed successfully!")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
