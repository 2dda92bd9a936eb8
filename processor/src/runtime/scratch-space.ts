/**
 * The scratch volume must hold a run's spool, spills and staged outputs. A run that cannot fit
 * fails before it reads a byte, with a message naming the volume, its free space and the size
 * it would need, instead of being evicted by the kubelet at the emptyDir's limit (which leaves
 * only a pod event behind).
 */
import { statfs } from 'node:fs/promises';

/**
 * Peak scratch bytes per input byte: spool, median and hash spills, and the cleaned and
 * transformed outputs staged for upload, all present at the end of pass 2. Measured on the
 * benchmark's 2,000,000-row seed-shaped input (278 MiB): 756 MB peak in the scratch directory
 * with the outputs staged in it, 2.59 × the input.
 */
export const SCRATCH_BYTES_PER_INPUT_BYTE = 2.6;
/** Room for the small outputs, the last spill buffers and the filesystem's own rounding. */
const SCRATCH_MARGIN_BYTES = 16 * 1024 * 1024;

/** The input does not fit the scratch volume; a bigger volume fixes it, so it is not bad input. */
export class ScratchSpaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScratchSpaceError';
  }
}

/** Bytes of scratch a run of an input of `inputBytes` needs at its peak. */
export function scratchBytesNeeded(inputBytes: number): number {
  return Math.ceil(inputBytes * SCRATCH_BYTES_PER_INPUT_BYTE) + SCRATCH_MARGIN_BYTES;
}

/**
 * Throws ScratchSpaceError when the volume of `dir` has less free space than the run needs.
 * `limitBytes` is the volume's size limit where statfs cannot see it (an emptyDir's sizeLimit).
 * Resolves to the run's ScratchBudget, for needs found later (ScratchBudget.reserve).
 */
export async function checkScratchSpace(dir: string, inputBytes: number, limitBytes: number | undefined): Promise<ScratchBudget> {
  const available = await freeBytes(dir, limitBytes);
  const needed = scratchBytesNeeded(inputBytes);
  if (available >= needed) return new ScratchBudget(dir, available, needed);
  throw new ScratchSpaceError(
    `the scratch volume ${dir} has ${formatBytes(available)} free, and an input of ${formatBytes(inputBytes)} needs about `
    + `${formatBytes(needed)} (${SCRATCH_BYTES_PER_INPUT_BYTE} × the input): set scratchVolumeSize to at least '${gibibytesFor(needed)}Gi'`,
  );
}

/**
 * What the preflight found free and set aside; a transform that finds it needs more (the
 * walkthrough's department spill, when there are too many departments to keep in memory) asks
 * for it before writing it.
 */
export class ScratchBudget {
  private reserved: number;

  constructor(private readonly dir: string, private readonly available: number, needed: number) {
    this.reserved = needed;
  }

  /**
   * Sets aside `bytes` more, for `what`; ScratchSpaceError when the volume cannot hold them on
   * top of what the preflight set aside (or no longer has them free now).
   */
  async reserve(bytes: number, what: string): Promise<void> {
    const needed = this.reserved + bytes;
    if (needed > this.available) {
      throw new ScratchSpaceError(
        `the scratch volume ${this.dir} had ${formatBytes(this.available)} free, and this run needs about ${formatBytes(needed)}: `
        + `${formatBytes(bytes)} more than the preflight's estimate for ${what}; set scratchVolumeSize to at least '${gibibytesFor(needed)}Gi'`,
      );
    }
    this.reserved = needed;
  }
}

async function freeBytes(dir: string, limitBytes: number | undefined): Promise<number> {
  const info = await statfs(dir);
  return Math.min(info.bavail * info.bsize, limitBytes ?? Infinity);
}

/** Whole GiB that hold `bytes`. */
function gibibytesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 2 ** 30));
}

function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
