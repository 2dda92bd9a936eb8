import { readSync } from 'node:fs';
import { FileHandle, open, stat } from 'node:fs/promises';
import { BadInputError } from '../errors';
import type { ByteSource } from './source';

/** Size and modification time of a local input file; BadInputError when it cannot be read. */
export async function statInputFile(path: string): Promise<{ size: number; mtime: Date }> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw inputFileError(path, error);
  }
  if (info.isDirectory()) throw new BadInputError(`input ${path} is a directory, not a CSV file`);
  return { size: info.size, mtime: info.mtime };
}

/** The file as a ByteSource; open and read errors become BadInputError naming the file. */
export async function openLocalFile(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw inputFileError(path, error);
  }
  return {
    read: async (buf, offset, length) => {
      try {
        return (await handle.read(buf, offset, length, null)).bytesRead;
      } catch (error) {
        throw inputFileError(path, error);
      }
    },
    close: () => handle.close(),
  };
}

/**
 * Reads `length` bytes at `position` of the file into `buf` from 0, synchronously (the scratch
 * files read back by pass 2 and the spills); `what` names the file when it ends too early.
 */
export function readFullySync(fd: number, buf: Uint8Array, length: number, position: number, what: string): void {
  let done = 0;
  while (done < length) {
    const bytesRead = readSync(fd, buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`${what} ends at byte ${position + done}, expected ${position + length}`);
    done += bytesRead;
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
