import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

describe('.projenrc.ts', () => {
  test('every source, test or config file it names exists', () => {
    const projenrc = fs.readFileSync(path.join(ROOT, '.projenrc.ts'), 'utf8');
    // Repo-relative TypeScript and JSON paths; globs and build outputs (processor/lib/*.js) are not files to check.
    const named = [...new Set(projenrc.match(/\b(?:src|test|processor|examples|scripts)\/[\w./-]+\.(?:ts|json)\b/g))];
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((file) => !fs.existsSync(path.join(ROOT, file)))).toEqual([]);
  });
});
