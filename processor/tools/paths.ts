/** Where the development tools find the repository and the walkthrough's pandas logic, from source (ts-node) or compiled. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above that holds .projenrc.ts. */
export const REPO_ROOT = findRepoRoot(__dirname);
/** Debian's python3, which has python3-pandas (not the machine's other Pythons). */
export const PYTHON = '/usr/bin/python3';
/** The walkthrough's pandas logic, the reference the processor is measured and checked against. */
export const SEED_SCRIPT = join(REPO_ROOT, 'processor', 'tools', 'seed_preprocess.py');

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.projenrc.ts'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no .projenrc.ts above ${from}`);
  }
}
