// The local SQS server for KEDA's aws-sqs-queue scaler and the test: fauxqs on 127.0.0.1:<port>
// (argv[2]), as processor/tools/local-aws.ts starts it for the other tests, but on a port the
// control plane's script chose, since the KEDA operator is started with the endpoint.
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false });
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
const stop = () => app.close().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
