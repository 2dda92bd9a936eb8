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
 * The pipeline and everything it processes with, loaded by the CLI after it has started the
 * worker threads (cli.ts startThreadsEarly), which then boot while these 10 ms of modules load.
 */
export function pipelineModule(): typeof import('../pipeline') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../pipeline');
}
