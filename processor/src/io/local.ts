import { FileHandle, open, stat } from 'node:fs/promises';
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

/**
 * The file's bytes in chunks. Two buffers alternate: the next chunk is read while the current one
 * is processed. A chunk stays valid until the one after the next is requested (the record readers
 * copy each chunk into their window at once). Open and read errors become BadInputError naming
 * the file.
 */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw inputFileError(path, error);
  }
  const buffers = [Buffer.allocUnsafe(READ_CHUNK_BYTES), Buffer.allocUnsafe(READ_CHUNK_BYTES)];
  const readInto = (buffer: Buffer): Promise<number> =>
    handle.read(buffer, 0, buffer.length, null).then((r) => r.bytesRead, (error: unknown) => {
      throw inputFileError(path, error);
    });
  let pending: Promise<number> | undefined = readInto(buffers[0]);
  try {
    for (let turn = 0; ; turn ^= 1) {
      const bytesRead: number = await pending!;
      pending = undefined;
      if (bytesRead === 0) return;
      pending = readInto(buffers[turn ^ 1]);
      yield buffers[turn].subarray(0, bytesRead);
    }
  } finally {
    // Let an outstanding read finish before closing the file under it.
    await pending?.catch(() => undefined);
    await handle.close();
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
      return typeof error === 'object' && error !== null ? (error as Error) : new Error(String(error));
  }
}
