import { ByteWindow } from '../byte-window';
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
  const window = new ByteWindow(INITIAL_WINDOW_BYTES);
  let bytesRead = 0;
  let bomChecked = false;

  const scanAvailable = (eof: boolean): void => {
    const buf = window.buffer;
    const length = window.length;
    if (!bomChecked) {
      if (length < UTF8_BOM.length && !eof) return;
      bomChecked = true;
      if (length >= 3 && buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2]) window.pos = 3;
    }
    let pos = window.pos;
    while (pos < length) {
      const next = scanner.scan(buf, pos, length, eof);
      if (next === NEED_MORE_INPUT) {
        if (length - pos > maxRecordBytes) {
          throw new BadInputError(
            `the record starting near line ${scanner.nextRecordLine} is longer than ${maxRecordBytes} bytes (unterminated quoted field?)`,
          );
        }
        break;
      }
      pos = next;
      if (scanner.fieldCount > 0) onRecord(scanner, buf);
    }
    window.pos = pos;
  };

  for await (const piece of source) {
    options.signal?.throwIfAborted();
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    bytesRead += chunk.length;
    window.append(chunk);
    scanAvailable(false);
    if (options.afterChunk) await options.afterChunk();
  }
  options.signal?.throwIfAborted();
  scanAvailable(true);
  return bytesRead;
}
