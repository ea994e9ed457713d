/**
 * Gives the days counted before rollups existed their day and month rollups
 * (lib/attribution/backfill.ts). Safe to run again and while the hub runs: what a run added is
 * never added twice.
 *
 *   npm run backfill-rollups [-- --table scrm-hub] [--endpoint URL | --aws]
 *
 * --table     the table (default HUB_TABLE, else `scrm-hub`)
 * --endpoint  DynamoDB endpoint (default: $AWS_ENDPOINT_URL_DYNAMODB, else the local runtime's)
 * --aws       use AWS itself: the SDK's default endpoint, region and credential chain
 *
 * HUB_COUNTER_SHARDS must be the value the stack runs with. Prints the counts as JSON
 * (`counters` read, `backfilled`, `alreadyDone`); exit 0, or 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config/index.ts';
import { backfillRollups } from '../lib/attribution/backfill.ts';
import { fail, toolDynamo } from './archive-cli.ts';

const USAGE = 'Usage: npm run backfill-rollups [-- --table NAME] [--endpoint URL | --aws]';

let values;
try {
  values = parseArgs({ options: { table: { type: 'string' }, endpoint: { type: 'string' }, aws: { type: 'boolean', default: false } } }).values;
} catch (err) {
  fail(USAGE, (err as Error).message);
}
const cfg = loadConfig({ env: process.env });
const db = toolDynamo({ aws: values.aws, endpoint: values.endpoint });
const result = await backfillRollups({ store: { db, table: values.table ?? cfg.HUB_TABLE }, cfg, now: Date.now });
console.log(JSON.stringify(result));
db.destroy();
