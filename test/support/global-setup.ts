/**
 * vitest globalSetup: one DynamoDB Local and one local SQS server for the whole run, on free
 * ports. Test files read the endpoints with inject() (see env.ts), and every file gets its own
 * table and queues, so files can run in parallel against the same emulators.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoLocal, startSqsLocal, type LocalEmulator } from '../../local/emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port> of DynamoDB Local */
    dynamoEndpoint: string;
    /** http://127.0.0.1:<port> of the local SQS server */
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // test.env only reaches the workers; the emulator clients here run in the main process.
  // eslint-disable-next-line no-restricted-syntax -- the SDK reads this notice switch from the main process's own environment
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = Date.now();
  const [dynamo, sqs] = await Promise.allSettled([startDynamoLocal({ port: 0 }), startSqsLocal({ port: 0 })]);
  const running = [dynamo, sqs].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async () => {
    await Promise.all(running.map((e: LocalEmulator) => e.stop()));
  };
  if (dynamo.status === 'rejected' || sqs.status === 'rejected') {
    await stopAll();
    throw dynamo.status === 'rejected' ? dynamo.reason : (sqs as PromiseRejectedResult).reason;
  }

  project.provide('dynamoEndpoint', dynamo.value.endpoint);
  project.provide('sqsEndpoint', sqs.value.endpoint);
  if (process.env.HUB_TEST_VERBOSE) {
    console.log(`emulators ready in ${Date.now() - started} ms: dynamodb ${dynamo.value.endpoint}, sqs ${sqs.value.endpoint}`);
  }
  return async () => {
    const stopping = Date.now();
    await stopAll();
    if (process.env.HUB_TEST_VERBOSE) console.log(`emulators stopped in ${Date.now() - stopping} ms`);
  };
}
