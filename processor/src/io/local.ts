import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { BadInputError } from '../errors';

/** Read size for input files: large enough to keep syscalls rare, small enough to stay bounded. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/** Size and modification time of a local input file; BadInputError when it cannot be read. */
export async function statInputFile(path: string): Promise<{ size: number; mtimeMs: number; mtime: Date }> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw inputFileError(path, error);
  }
  if (info.isDirectory()) throw new BadInputError(`input ${path} is a directory, not a CSV file`);
  return { size: info.size, mtimeMs: info.mtimeMs, mtime: info.mtime };
}

/** The file's bytes in chunks; open and read errors become BadInputError naming the file. */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw inputFileError(path, error);
  } finally {
    stream.destroy();
  }
}

/** Passes chunks through while also writing them to `path` (the S3 download spool). */
export async function* spoolChunks(source: AsyncIterable<Buffer>, path: string): AsyncGenerator<Buffer> {
  const out = createWriteStream(path);
  try {
    for await (const chunk of source) {
      if (!out.write(chunk)) await once(out, 'drain');
      yield chunk;
    }
    out.end();
    await finished(out);
  } finally {
    if (!out.writableFinished) out.destroy();
  }
}

function inputFileError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new BadInputError(`input file ${path} does not exist`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new BadInputError(`input file ${path} is not readable (permission denied)`, { cause: error });
    case 'EISDIR':
      return new BadInputError(`input ${path} is a directory, not a CSV file`, { cause: error });
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
