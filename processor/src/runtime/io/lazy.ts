/**
 * Modules loaded on first use. The ones that bring the AWS SDK: it takes about 50 ms and 20 MB to
 * load, which runs on local files do not need. (`require`, not `import()`: this program compiles to
 * CommonJS, where a dynamic import would need file extensions that the tests' resolver lacks.)
 */
export function s3Module(): typeof import('./s3') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./s3');
}

export function queueModule(): typeof import('../queue') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../queue');
}

/**
 * The run (run.ts), loaded by the CLI after the transform has started its worker threads
 * (cli.ts startThreadsEarly), which then boot while the modules load; the walkthrough's engine
 * follows on its first run (processor/src/transforms/walkthrough/index.ts).
 */
export function runModule(): typeof import('../run') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../run');
}
