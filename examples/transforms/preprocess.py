#!/usr/bin/env python3
"""The walkthrough's pandas preprocessing (processor/tools/seed_preprocess.py, our copy of the
seed's logic) as a command transform (SPEC §14): `npm run preprocess -- --input … --output … --
python3 examples/transforms/preprocess.py`, or the `transform` container of a workload.

Changed from processor/tools/seed_preprocess.py, and nothing else: the first lines of main(),
which read the input path, output directory and run id from the command line (and the optional
--na-values flag), now read them from the runtime's environment:
    input_path = os.environ['MLOPS_INPUT_FILE']      # was argv[1]
    output_dir = os.environ['MLOPS_OUTPUT_DIR']      # was argv[2]; os.makedirs(output_dir) dropped: it exists, empty
    run_id = os.environ['MLOPS_RUN_ID']              # was argv[3]
    na_values = NA_VALUES['default']                 # was --na-values (pandas' default tokens)
Everything from `df = pd.read_csv(...)` on is the seed's, line for line: the runtime publishes the
files this script writes into MLOPS_OUTPUT_DIR once it exits 0, under <output prefix><run id>/.
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
    input_path = os.environ['MLOPS_INPUT_FILE']
    output_dir = os.environ['MLOPS_OUTPUT_DIR']
    run_id = os.environ['MLOPS_RUN_ID']
    na_values = NA_VALUES['default']

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
