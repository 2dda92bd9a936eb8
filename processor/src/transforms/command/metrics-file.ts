/**
 * MLOPS_METRICS_FILE: a program may write a JSON object there; `input_rows` and `rejected_rows`
 * become the run's counts (manifest and metrics). A missing file means no counts; an unreadable
 * one is a warning, never a change of the run's outcome.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../runtime/log';

export interface ProgramCounts {
  readonly inputRows: number;
  readonly rejectedRows: number;
}

export async function readProgramCounts(path: string, log: Logger): Promise<ProgramCounts> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`The metrics file MLOPS_METRICS_FILE could not be read: ${(error as Error).message}; no counts`);
    return { inputRows: 0, rejectedRows: 0 };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    log.warn(`The metrics file MLOPS_METRICS_FILE is not valid JSON (${(error as Error).message}); the run's counts are 0`);
    return { inputRows: 0, rejectedRows: 0 };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    log.warn('The metrics file MLOPS_METRICS_FILE does not hold a JSON object; the run\'s counts are 0');
    return { inputRows: 0, rejectedRows: 0 };
  }
  const record = value as Record<string, unknown>;
  return { inputRows: count(record, 'input_rows', log), rejectedRows: count(record, 'rejected_rows', log) };
}

function count(record: Record<string, unknown>, field: string, log: Logger): number {
  const value = record[field];
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  log.warn(`The metrics file's ${field} is not a whole number ≥ 0 (${JSON.stringify(value)}); counted as 0`);
  return 0;
}
