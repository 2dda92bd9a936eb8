/**
 * The intermediate file between the two passes.
 *
 * Pass 1 turns each valid input row into its finished output bytes except for the parts that
 * need the medians, so pass 2 only copies bytes and fills gaps instead of parsing the CSV again.
 * One record per valid row, in input order: a header, then the body `A age , salary B`, which is
 * the cleaned row itself when neither the age nor the salary is missing (pass 2 copies it whole).
 *
 *   offset  0  int32    record length in bytes (header included)
 *           4  int32    length of segment A: `id,name,`
 *           8  int32    length of the age text (0 when the age is missing); a comma follows it
 *          12  int32    length of the salary text (0 when missing)
 *          16  int32    length of segment B: `,hire_date,department,bonus,address,phone,email[,extras]`
 *          20  int32    department id (index into the pass-1 thread's department list), or -1 when the
 *                       thread had no id left for it: then the department's bytes follow the body
 *          24  int32    address_length
 *          28  int32    missing cells among the copied columns (name, hire_date, bonus, profile fields,
 *                       extras), plus SPOOL_NEGATIVE_BONUS when the bonus is -0.0
 *          32  float64  age (NaN when missing)
 *          40  float64  salary (NaN when missing)
 *          48  bytes    A, age text, `,`, salary text, B[, the department's bytes]
 *
 * About 48 bytes per row more than the cleaned row itself; it lives in the scratch directory. Pass 1
 * writes it one input range at a time, so pass 2 knows where ranges of whole records start and end.
 */
export const SPOOL_HEADER_BYTES = 48;
export const SPOOL_RECORD_LENGTH = 0;
export const SPOOL_SEGMENT_A = 4;
export const SPOOL_AGE_TEXT = 8;
export const SPOOL_SALARY_TEXT = 12;
export const SPOOL_SEGMENT_B = 16;
export const SPOOL_DEPARTMENT = 20;
export const SPOOL_ADDRESS_LENGTH = 24;
export const SPOOL_MISSING = 28;
export const SPOOL_AGE = 32;
export const SPOOL_SALARY = 40;
/**
 * Flag added to the missing count: the bonus is -0.0. Duplicate counting compares values, and
 * -0.0 equals 0.0 (pass 2 sees age and salary as numbers, the bonus only as text).
 */
export const SPOOL_NEGATIVE_BONUS = 1 << 30;

/** Called per spool record with a DataView of the buffer and the record's offset; valid only during the call. */
export type SpoolRecordHandler = (view: DataView, offset: number) => void;

/** Calls `onRecord` for each record in `buf[0, length)`, which holds whole records; returns their number. */
export function forEachSpoolRecord(buf: Buffer, length: number, onRecord: SpoolRecordHandler): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  let records = 0;
  while (length - pos >= SPOOL_HEADER_BYTES) {
    const recordLength = view.getInt32(pos + SPOOL_RECORD_LENGTH, true);
    if (recordLength < SPOOL_HEADER_BYTES || length - pos < recordLength) break;
    onRecord(view, pos);
    pos += recordLength;
    records++;
  }
  if (pos !== length) throw new Error(`the spool range ends inside a record (${length - pos} bytes left)`);
  return records;
}
