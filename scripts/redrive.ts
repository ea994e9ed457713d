/**
 * Moves messages from a dead-letter queue back to its source queue (lib/store/sqs-redrive.ts).
 *
 *   npm run redrive [-- --queue engagement] [--max N] [--prefix P] [--dlq NAME|URL]
 *                   [--endpoint URL] [--aws] [--region R]
 *
 * --queue     source queue: a logical name from lib/queues.ts QUEUES (`engagement`,
 *             `staff-alerts`), any queue name, or a queue URL (default `engagement`); the
 *             dead-letter queue is `<queue>-dlq` unless --dlq says otherwise
 * --prefix    queue name prefix (`<prefix>-<queue>`) when the queues were created with one
 * --max       at most this many messages (default 1000)
 * --endpoint  SQS endpoint (default: $AWS_ENDPOINT_URL_SQS, else the local runtime's
 *             http://127.0.0.1:9324)
 * --aws       use AWS itself: the SDK's default endpoint, region and credential chain
 *
 * Prints what it moved: `received`, `moved`, `failed` and the messages left in the dead-letter
 * queue. Exit 0 when nothing failed, 1 when some messages could not be moved, 2 on bad arguments.
 *
 * In AWS the native alternative moves the messages server-side:
 *   aws sqs start-message-move-task --source-arn <dead-letter queue arn>
 * (returns them to their source queues; `aws sqs list-message-move-tasks` shows progress).
 */
import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../local/emulators.ts';
import { isQueueName, QUEUES, queueName } from '../lib/queues.ts';
import { redrive } from '../lib/store/sqs-redrive.ts';

const USAGE = `Usage: npm run redrive [-- --queue engagement] [--max N] [--prefix P] [--dlq NAME|URL] [--endpoint URL] [--aws] [--region R]`;

const LOCAL_SQS_ENDPOINT = 'http://127.0.0.1:9324';

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      queue: { type: 'string', default: 'engagement' },
      dlq: { type: 'string' },
      prefix: { type: 'string' },
      max: { type: 'string', default: '1000' },
      endpoint: { type: 'string' },
      aws: { type: 'boolean', default: false },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
}
try {
  values = parse().values;
} catch (err) {
  usage((err as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!/^\d+$/.test(values.max ?? '') || Number(values.max) < 1) usage(`--max must be a positive integer, got ${values.max}`);
const max = Number(values.max);

const rawQueue = values.queue ?? 'engagement';
const isUrl = /^https?:\/\//i.test(rawQueue);
const baseName = isUrl ? rawQueue : isQueueName(rawQueue) ? QUEUES[rawQueue].name : rawQueue;
const queue = isUrl ? rawQueue : queueName(values.prefix, baseName);
const dlq = values.dlq ?? (isUrl ? undefined : `${queue}-dlq`);

const clientConfig: SQSClientConfig = { maxAttempts: 3 };
if (values.region) clientConfig.region = values.region;
if (!values.aws) {
  clientConfig.endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL_SQS ?? LOCAL_SQS_ENDPOINT;
  clientConfig.region ??= process.env.AWS_REGION ?? LOCAL_AWS.region;
  if (!process.env.AWS_ACCESS_KEY_ID) clientConfig.credentials = LOCAL_AWS.credentials;
} else if (values.endpoint) clientConfig.endpoint = values.endpoint;
const sqs = new SQSClient(clientConfig);

try {
  const r = await redrive({ sqs, queue, ...(dlq !== undefined && { dlq }), max });
  const left = await sqs
    .send(new GetQueueAttributesCommand({ QueueUrl: r.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))
    .then((a) => a.Attributes ?? {})
    .catch(() => ({}) as Record<string, string>);
  console.log(`${r.dlqUrl} → ${r.sourceUrl}`);
  console.log(`received ${r.received}, moved ${r.moved}, failed ${r.failed}${r.notDeleted ? `, moved but not deleted ${r.notDeleted}` : ''}`);
  console.log(
    `left in the dead-letter queue: ${left.ApproximateNumberOfMessages ?? '?'} visible, ${left.ApproximateNumberOfMessagesNotVisible ?? '?'} in flight`,
  );
  process.exitCode = r.failed > 0 ? 1 : 0;
} catch (err) {
  console.error(`redrive failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  sqs.destroy();
}
