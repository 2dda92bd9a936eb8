/**
 * What a program left in its output directory, as files to publish: only regular files and
 * directories are allowed (a symlink could publish any file the runtime can read, /etc/passwd
 * included; a FIFO would block the upload), and anything else fails the run naming it.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { CSV_CONTENT_TYPE, JSON_CONTENT_TYPE, PARQUET_CONTENT_TYPE } from '../../runtime/outputs';
import type { OutputFile } from '../../runtime/transform';

/** The output directory holds something that is not a regular file or directory; nothing is published. */
export class UnpublishableOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnpublishableOutputError';
  }
}

/**
 * Every regular file under `dir`, sorted by relative path, as OutputFiles named `<relative path>`
 * and published as `<prefix><relative path>`, with bytes and SHA-256.
 */
export async function listOutputFiles(dir: string, prefix: string): Promise<OutputFile[]> {
  const relativePaths = await regularFiles(dir, '');
  const files: OutputFile[] = [];
  for (const relative of relativePaths.sort()) {
    const path = join(dir, relative);
    const { bytes, sha256 } = await digest(path);
    files.push({ name: relative, fileName: prefix + relative, bytes, sha256, contentType: contentTypeOf(relative), sourcePath: path });
  }
  return files;
}

async function regularFiles(root: string, relative: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) found.push(...await regularFiles(root, path));
    else if (entry.isFile()) found.push(path);
    else throw new UnpublishableOutputError(`the transform's output directory holds ${kindOf(entry)} '${path}': only regular files and folders are published, so nothing is`);
  }
  return found;
}

function kindOf(entry: { isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (entry.isSymbolicLink()) return 'a symlink';
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  return 'a device or other special file';
}

/** Files up to this size are hashed in one read (a program may write thousands of small files). */
const SMALL_FILE_BYTES = 1024 * 1024;

/** Bytes read at a time from a larger file, into one buffer per file. */
const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * Size and SHA-256 of a file, read through one reused buffer: bounded memory whatever its size,
 * and no garbage (a read stream's fresh chunk per read piles up until the next collection).
 */
async function digest(path: string): Promise<{ bytes: number; sha256: string }> {
  const info = await lstat(path);
  if (!info.isFile()) throw new UnpublishableOutputError(`'${path}' changed into something that is not a regular file`);
  if (info.size <= SMALL_FILE_BYTES) {
    const bytes = await readFile(path);
    return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
  let bytes = 0;
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await file.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}

const CONTENT_TYPES: Record<string, string> = {
  '.csv': CSV_CONTENT_TYPE,
  '.json': JSON_CONTENT_TYPE,
  '.txt': 'text/plain; charset=utf-8',
  '.parquet': PARQUET_CONTENT_TYPE,
};

function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
