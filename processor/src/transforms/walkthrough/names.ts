/** The walkthrough's output files of a run: `<name>_<runId>.<ext>` (the manifest is the runtime's). */
export function walkthroughFileNames(runId: string) {
  return {
    cleaned: `cleaned_data_${runId}.csv`,
    transformed: `transformed_data_${runId}.csv`,
    departmentStatistics: `department_statistics_${runId}.csv`,
    qualityMetrics: `quality_metrics_${runId}.json`,
    rejected: `rejected_rows_${runId}.csv`,
  };
}

export type WalkthroughFileNames = ReturnType<typeof walkthroughFileNames>;
