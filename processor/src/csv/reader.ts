import { BadInputError } from '../errors';
import { CsvScanner, NEED_MORE_INPUT } from './scanner';

/** Largest record accepted; a bigger one is almost always an unterminated quote swallowing the file. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
const INITIAL_WINDOW_BYTES = 4 * 1024 * 1024;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Called once per record; the scanner's offsets point into `buf` and are valid only during the call. */
export type RecordHandler = (scanner: CsvScanner, buf: Buffer) => void;

export interface ReadRecordsOptions {
  readonly maxRecordBytes?: number;
  readonly signal?: AbortSignal;
  /** Called after each input chunk has been scanned, e.g. to wait for output backpressure. */
  readonly afterChunk?: () => Promise<void> | void;
}

/**
 * Streams records out of a chunked byte source with bounded memory: one window buffer that holds
 * the current chunk plus the unfinished record carried over from the previous one. A leading
 * UTF-8 byte order mark is skipped. Returns the number of bytes read.
 */
export async function readRecords(
  source: AsyncIterable<Buffer | Uint8Array>,
  onRecord: RecordHandler,
  options: ReadRecordsOptions = {},
): Promise<number> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const scanner = new CsvScanner();
  let window = Buffer.allocUnsafe(INITIAL_WINDOW_BYTES);
  let length = 0;
  let pos = 0;
  let bytesRead = 0;
  let bomChecked = false;

  const scanAvailable = (eof: boolean): void => {
    if (!bomChecked) {
      if (length < UTF8_BOM.length && !eof) return;
      bomChecked = true;
      if (length >= 3 && window[0] === UTF8_BOM[0] && window[1] === UTF8_BOM[1] && window[2] === UTF8_BOM[2]) pos = 3;
    }
    while (pos < length) {
      const next = scanner.scan(window, pos, length, eof);
      if (next === NEED_MORE_INPUT) {
        if (length - pos > maxRecordBytes) {
          throw new BadInputError(
            `the record starting near line ${scanner.nextRecordLine} is longer than ${maxRecordBytes} bytes (unterminated quoted field?)`,
          );
        }
        return;
      }
      pos = next;
      if (scanner.fieldCount > 0) onRecord(scanner, window);
    }
  };

  for await (const piece of source) {
    options.signal?.throwIfAborted();
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    bytesRead += chunk.length;
    // Keep only the unfinished record, then append the chunk after it.
    if (pos > 0) {
      window.copy(window, 0, pos, length);
      length -= pos;
      pos = 0;
    }
    if (length + chunk.length > window.length) {
      const grown = Buffer.allocUnsafe(Math.max(window.length * 2, length + chunk.length));
      window.copy(grown, 0, 0, length);
      window = grown;
    }
    chunk.copy(window, length);
    length += chunk.length;
    scanAvailable(false);
    if (options.afterChunk) await options.afterChunk();
  }
  options.signal?.throwIfAborted();
  scanAvailable(true);
  return bytesRead;
}
