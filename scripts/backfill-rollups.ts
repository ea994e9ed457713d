/**
 * Gives the days counted before rollups existed their day and month rollups, then the member
 * records written before cohort credits existed their cohort credits (lib/attribution/backfill.ts;
 * the counter fold moves those into the rollups). Safe to run again and while the hub runs: what a run added is
 * never added twice.
 *
 *   npm run backfill-rollups [-- --table scrm-hub] [--endpoint URL | --aws]
 *
 * --table     the table (default HUB_TABLE, else `scrm-hub`)
 * --endpoint  DynamoDB endpoint (default: $AWS_ENDPOINT_URL_DYNAMODB, else the local runtime's)
 * --aws       use AWS itself: the SDK's default endpoint, region and credential chain
 *
 * HUB_COUNTER_SHARDS must be the value the stack runs with. Prints the counts as JSON
 * (`counters` read, `backfilled`, `alreadyDone`, and `cohorts`: `profiles` read, `backfilled`,
 * `alreadyDone`); exit 0, or 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config/index.ts';
import { backfillCohorts, backfillRollups } from '../lib/attribution/backfill.ts';
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
const src = { store: { db, table: values.table ?? cfg.HUB_TABLE }, cfg, now: Date.now };
const result = await backfillRollups(src);
const cohorts = await backfillCohorts(src);
console.log(JSON.stringify({ ...result, cohorts }));
db.destroy();
