/**
 * Replay one archived event into the live table (lib/analytics/replay.ts): a no-op when it is
 * already applied.
 *
 *   npm run replay -- --event <eventId> [--archive .data/archive] [--endpoint URL | --aws]
 *
 * Prints `applied` or `duplicate` with the member. The configuration (table, queue URLs, keys)
 * is read from the environment as the hub reads it. Exit 0, 1 when the event is not archived, 2
 * on bad arguments.
 */
import { parseArgs } from 'node:util';
import { createRuntime } from '../lib/runtime/runtime.ts';
import { replayEvent } from '../lib/analytics/replay.ts';
import { archiveDirOf, fail, toolDynamo } from './archive-cli.ts';

const USAGE = 'Usage: npm run replay -- --event <eventId> [--archive DIR] [--endpoint URL | --aws]';
let values;
try {
  values = parseArgs({ options: { event: { type: 'string' }, archive: { type: 'string' }, endpoint: { type: 'string' }, aws: { type: 'boolean', default: false } } }).values;
} catch (err) {
  fail(USAGE, (err as Error).message);
}
if (!values.event) fail(USAGE, '--event names the event to replay');
const db = toolDynamo({ aws: values.aws, endpoint: values.endpoint });
const rt = createRuntime({ env: process.env, clients: { ddb: db } });
try {
  const r = await replayEvent(archiveDirOf(values.archive), values.event, rt);
  console.log(`${r.result.status} ${r.result.eventId} (from the ${r.from})${r.result.memberId ? ` member ${r.result.memberId}` : ''}`);
} catch (err) {
  console.error(`replay failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  db.destroy();
}
