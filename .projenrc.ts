import { awscdk, javascript } from 'projen';

// The processor's runtime libraries. They are listed here for development (tests, `npm run
// preprocess`, the demo) and again in processor/package.json, which the image build installs from
// processor/package-lock.json; test/processor/packaging.test.ts keeps the two lists in step.
const processorDeps = [
  '@aws-sdk/client-cloudwatch@^3.1164.0',
  '@aws-sdk/client-s3@^3.1175.0',
  '@aws-sdk/client-sqs@^3.1175.0',
  // Parquet output (processor/src/transforms/walkthrough/parquet/): Snappy-compressed pages,
  // native (napi-rs; the binary per platform ships in npm packages, no install script).
  'snappy@^7.4.3',
];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-mlops-eks',
  description:
    'AWS CDK constructs for a secure MLOps data-preprocessing pipeline on Amazon EKS with EKS Pod Identity: network, cluster, and a streaming S3 preprocessing Job.',
  author: 'cdk-mlops-eks developers',
  authorAddress: 'maintainers@cdk-mlops-eks.dev',
  repositoryUrl: 'https://github.com/cdk-mlops-eks/cdk-mlops-eks.git',
  keywords: ['cdk', 'aws-cdk', 'eks', 'pod-identity', 'mlops', 'kubernetes', 's3', 'preprocessing'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  // aws-eks-v2 (native AWS::EKS::Cluster, access entries, Pod Identity) is stable in aws-cdk-lib.
  cdkVersion: '2.276.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',

  // The kubectl layer that matches the default Kubernetes version (see src/cluster/kubectl-layer.ts).
  deps: ['@aws-cdk/lambda-layer-kubectl-v36@^2.0.1'],
  // Renders the emitted manifests as YAML; bundled because it is not a jsii module.
  bundledDeps: ['yaml@^2.9.1'],
  devDeps: [
    ...processorDeps,
    // The demo's uploads and the command benchmark's plain-SDK baseline (processor/tools/); the
    // runtime uploads its files itself (processor/src/runtime/io/s3.ts uploadFile).
    '@aws-sdk/lib-storage@^3.1175.0',
    // Reads the processor's Parquet files back in the tests (pure JavaScript, ESM: the tests run it in a child process).
    'hyparquet@^1.31.5',
    // The references that the processor's own CSV scanner and writer are tested against (test/processor/transforms/walkthrough/csv.test.ts).
    'csv-parse@^7.0.3',
    'csv-stringify@^6.9.0',
    '@aws-cdk/lambda-layer-kubectl-v32@^2.1.0',
    'aws-cdk@^2.1148.1',
    'cdk-nag@^3.0.2',
    // Strict schema validation of the emitted manifests (test/preprocessing/k8s-schema.ts): the
    // Kubernetes API and KEDA schemas, compiled. ESM-only; they declare Node 22 but run on Node 20.
    'kubernetes-models@^5.1.0',
    '@kubernetes-models/keda@^2.0.0',
    's3rver@^3.7.1',
    // A local SQS server speaking the JSON protocol of @aws-sdk/client-sqs (tests and the demo);
    // 1.x is the line that runs on Node 20 (2.x needs node:sqlite, Node 22.5+).
    'fauxqs@^1.9.2',
  ],

  // Release targets. The Python packager needs PyPI, so this repository's CI builds and tests
  // the JavaScript package; the hosted release workflow packages all of them.
  publishToPypi: { distName: 'cdk-mlops-eks', module: 'cdk_mlops_eks' },
  publishToMaven: {
    javaPackage: 'io.github.cdkmlopseks',
    mavenGroupId: 'io.github.cdk-mlops-eks',
    mavenArtifactId: 'cdk-mlops-eks',
  },
  publishToNuget: { dotNetNamespace: 'CdkMlopsEks', packageId: 'CdkMlopsEks' },
  publishToGo: { moduleName: 'github.com/cdk-mlops-eks/cdk-mlops-eks-go' },

  docgen: true,
  sampleCode: false,
  // tsconfig.dev.json type-checks everything that is not the jsii library itself.
  tsconfigDevFile: 'tsconfig.dev.json',
  // It also holds the tests' ESM helpers (test/**/*.mjs, run by node in a child process) so that
  // eslint lints them with type information like the rest.
  tsconfigDev: {
    include: ['.projenrc.ts', 'src/**/*.ts', 'test/**/*.ts', 'test/**/*.mjs', 'examples/**/*.ts', 'processor/**/*.ts'],
    exclude: ['node_modules', 'processor/lib', 'processor/node_modules'],
    compilerOptions: { allowJs: true },
  },
  eslintOptions: {
    // One type-checking project for every linted folder (tsconfig.dev.json includes them all).
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
    dirs: ['src'],
    devdirs: ['test', 'examples', 'processor/src', 'processor/tools', 'build-tools', 'projenrc'],
    fileExtensions: ['.ts', '.tsx', '.mjs'],
  },
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '/processor/lib/'],
      // Synthesized assets copy processor/package.json; jest's module map must not see them twice.
      modulePathIgnorePatterns: ['<rootDir>/cdk.out/'],
      // Synthesized apps go to one reused directory per worker instead of a new one per App.
      globalSetup: '<rootDir>/test/jest/clean-outdir.ts',
      setupFiles: ['<rootDir>/test/jest/setup-outdir.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
    },
  },

  gitignore: ['/cdk.out/', '/.scratch/', '/processor/lib/', '/processor/node_modules/', '/data/', '/out/', '/.bench/', '*.tgz', '/.cache/'],
  npmIgnoreOptions: { ignorePatterns: ['/examples/', '/scripts/', '/.scratch/', '/cdk.out/', '/data/', '/out/', '/.bench/', '/.ci/', '/processor/lib/', '/processor/node_modules/', '/processor/tools/', '/tsconfig.dev.json', '/cdk.json'] },
});

// The processor's hot loop hashes rows and parses numbers with bit operations on purpose.
project.eslint?.addOverride({ files: ['processor/**/*.ts'], rules: { 'no-bitwise': 'off' } });

// The processor is a separate small program: compiled with its own tsconfig, run from the repo root.
const buildProcessor = project.addTask('processor:compile', {
  description: 'Compile processor/ (TypeScript, no CDK imports) into processor/lib',
  exec: 'tsc -p processor/tsconfig.tools.json',
});
// `npm run preprocess -- --input … --output …` (or `--queue-url … --output …`) is a plain npm script,
// not a projen task: the task runner would turn the processor's exit code (0, 2, 1, 143) into its
// own, and compile every time. scripts/preprocess.js compiles only when processor/lib is stale and
// runs the CLI in its process. `exec`: npm forwards SIGTERM to the shell it starts; the shell must
// be the processor itself. The node flags are NODE_FLAGS of processor/src/runtime/config.ts (a small young
// generation keeps memory flat; hot code compiled on the thread that runs it).
project.package.setScript('preprocess', 'exec node --max-semi-space-size=2 --no-concurrent-recompilation scripts/preprocess.js');
const synthExample = project.addTask('synth:example', {
  description: 'Synthesize examples/app.ts into cdk.out/ (no AWS account needed)',
  exec: 'cdk synth --quiet --no-notices --no-version-reporting --output cdk.out',
});
project.addTask('demo', {
  description: 'Synthesize the example, then run the pipeline as on EKS against an embedded S3 (--trigger upload: one Job per upload through SQS)',
  steps: [
    { spawn: synthExample.name },
    { spawn: buildProcessor.name },
    { exec: 'node processor/lib/tools/demo.js', receiveArgs: true },
  ],
  // Node 20 runs the demo; the AWS SDK's notice about future Node versions would only clutter it.
  env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
});
// The pandas parity fixtures (test/tools/pandas-fixtures/, compared by `npm test`) and the live check
// against pandas itself; both need Debian's python3-pandas (.ci/run installs it and runs the check).
project.addTask('parity:fixtures', {
  description: 'Regenerate the pandas parity fixtures in test/tools/pandas-fixtures/ (needs python3-pandas)',
  steps: [{ spawn: buildProcessor.name }, { exec: 'node processor/lib/tools/pandas-fixtures.js write' }],
});
project.addTask('parity:pandas', {
  description: 'Re-run live pandas on the parity cases: the fixtures must be current and the processor must agree (needs python3-pandas)',
  steps: [{ spawn: buildProcessor.name }, { exec: 'node processor/lib/tools/pandas-fixtures.js check' }],
});
project.addTask('bench', {
  description: 'Benchmark the processor against the walkthrough\'s pandas logic (needs python3-pandas)',
  steps: [{ spawn: buildProcessor.name }, { exec: 'node processor/lib/tools/bench.js', receiveArgs: true }],
});
// The processor against moto's server mode: versioned reads (an S3 that keeps object versions,
// which s3rver does not) and run metrics (CloudWatch). Not part of `npm test` (it needs Python and
// PyPI): .ci/run runs it through scripts/moto-server.sh, which starts the server on 127.0.0.1 and
// sets MOTO_S3_ENDPOINT and MOTO_CLOUDWATCH_ENDPOINT.
project.addTask('test:moto', {
  description: 'Processor tests against moto_server: versioned reads and run metrics (run through scripts/moto-server.sh)',
  exec: "jest --coverage=false --runInBand --testMatch '<rootDir>/test/processor/moto/**/*.moto.ts'",
  env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
});
project.preCompileTask.spawn(buildProcessor);
// The Python, Java and Go packages (dist/, from package:python|java|go), each used from its own
// language (SPEC §13). Not part of `npm test`, which stays Node-only: it needs pip, mvn and go
// (.ci/run installs what is missing and runs it after the packaging).
project.addTask('test:languages', {
  description: 'Use the Python, Java and Go packages in dist/ from their languages: the Python twin of examples/app.ts, JUnit, go test (needs pip, mvn, go)',
  exec: 'bash test/languages/run.sh',
  receiveArgs: true,
  // The jsii runtime of each language starts Node, which would print its end-of-life notice for Node 20 every time.
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
});
// SPEC §12: the stack's life replayed through aws-eks-v2's kubectl handler on a real control plane
// (etcd, kube-apiserver, controller manager, scheduler, KWOK, KEDA), built from their Go modules
// into .cache/control-plane/. Needs Go, python3 and openssl: .ci/run runs it; `npm test` does not.
project.addTask('test:cluster', {
  description: 'Build (cached) and start a local Kubernetes control plane with KEDA, replay the stack\'s life through the kubectl handler and assert the cluster (test/control-plane/)',
  exec: 'bash test/control-plane/run.sh',
  receiveArgs: true,
});

project.synth();
