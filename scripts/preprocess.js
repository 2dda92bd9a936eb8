#!/usr/bin/env node
/**
 * `npm run preprocess -- --input <file|s3://bucket/key> --output <dir|s3://bucket/prefix/> [...]`
 *
 * Runs the processor's command line (processor/lib/src/runtime/cli.js, the `cdk-mlops-eks-preprocess`
 * bin of processor/package.json) in this process, so npm exits with the processor's own code:
 * 0 done, 2 bad input, 1 other failure, 143 stopped by SIGTERM. It compiles processor/ first
 * only when the compiled program is missing or older than a source file, not on every run.
 *
 * Plain JavaScript on purpose: it has to run before anything is compiled.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const PROCESSOR = join(__dirname, '..', 'processor');
const LIB = join(PROCESSOR, 'lib');
const CLI = join(LIB, 'src', 'runtime', 'cli.js');
// The same build as `npx projen processor:compile`: one tsconfig, one incremental build state.
const TSCONFIG = join(PROCESSOR, 'tsconfig.tools.json');
const BUILD_INFO = join(LIB, '.tsbuildinfo-tools');
/** Touched after each successful compile here; sources newer than it mean a rebuild. */
const STAMP = join(LIB, '.preprocess-built');
const EXIT_FAILURE = 1;

/** Newest modification time (ms) of the files under `path` (a file or a directory). */
function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isStale() {
  if (!existsSync(CLI) || !existsSync(STAMP)) return true;
  const sources = ['src', 'tools', 'tsconfig.json', 'tsconfig.tools.json'].map((p) => join(PROCESSOR, p));
  return Math.max(...sources.map(newestMtime)) > statSync(STAMP).mtimeMs;
}

function compile() {
  process.stderr.write('preprocess: compiling processor/ (missing or older than its sources)\n');
  // tsc's incremental state does not notice deleted outputs: start over when the program is gone.
  if (!existsSync(CLI)) rmSync(BUILD_INFO, { force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', TSCONFIG], { stdio: ['ignore', 2, 2] });
  if (run.status !== 0 || !existsSync(CLI)) {
    process.stderr.write(`preprocess: compiling processor/ failed (${run.error ? run.error.message : `tsc exit ${run.status}`})\n`);
    process.exit(EXIT_FAILURE);
  }
  writeFileSync(STAMP, '');
}

if (isStale()) compile();
require(CLI).runAsProcess(process.argv.slice(2));
