/**
 * Rebuild a fresh table from the archive with the CURRENT normalisers, then report how it
 * differs from the live table (lib/analytics/rebuild.ts; docs/deploy.md#rebuild for switching
 * the stack over).
 *
 *   npm run rebuild -- --from 2026-11-01 --to 2026-12-01 [--source wechat,youzan] --table <new>
 *                      [--live scrm-hub] [--archive .data/archive] [--endpoint URL | --aws] [--json FILE]
 *
 * --from, --to  UTC days of the archive partitions, from inclusive, to exclusive
 * --source      only these sources (default: all)
 * --table       the table to build; created when missing, refused when not empty
 * --live        the live table (default HUB_TABLE, else scrm-hub); only read
 * --archive     the local archive (default $HUB_ARCHIVE_DIR, else .data/archive); from S3:
 *               `aws s3 sync s3://<ArchiveBucketName>/requests <dir>/requests` (and `events`) first
 * --json        also write the whole result as JSON to FILE
 * The configuration (WECHAT_AES_KEY to decrypt WeChat pushes, HUB_TIMEZONE, …) is read from the
 * environment as the hub reads it. Exit 0 with the report printed, 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config/index.ts';
import { createTable } from '../local/emulators.ts';
import { rebuild } from '../lib/analytics/rebuild.ts';
import { formatReport } from '../lib/analytics/diff.ts';
import { archiveDirOf, fail, toolDynamo } from './archive-cli.ts';

const USAGE = 'Usage: npm run rebuild -- --from YYYY-MM-DD --to YYYY-MM-DD [--source a,b] --table NEW [--live TABLE] [--archive DIR] [--endpoint URL | --aws] [--json FILE]';
let values;
try {
  values = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      source: { type: 'string' },
      table: { type: 'string' },
      live: { type: 'string' },
      archive: { type: 'string' },
      endpoint: { type: 'string' },
      aws: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  }).values;
} catch (err) {
  fail(USAGE, (err as Error).message);
}
const day = /^\d{4}-\d{2}-\d{2}$/;
if (!values.from || !day.test(values.from) || !values.to || !day.test(values.to) || values.from >= values.to) fail(USAGE, '--from and --to are UTC days, from before to');
if (!values.table) fail(USAGE, '--table names the table to build');

const cfg = loadConfig({ env: process.env });
const live = values.live ?? cfg.HUB_TABLE;
const db = toolDynamo({ aws: values.aws, endpoint: values.endpoint });
await createTable(db, values.table);
const result = await rebuild({
  archiveDir: archiveDirOf(values.archive),
  range: { from: values.from, to: values.to, ...(values.source ? { sources: values.source.split(',').map((s) => s.trim()) } : {}) },
  live: { db, table: live },
  target: { db, table: values.table },
  cfg,
  log: (l) => console.log(l),
});
for (const r of result.refused) console.log(`refused ${r.source} ${r.id}: ${r.code} ${r.message}`);
for (const line of formatReport(result.report)) console.log(line);
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
db.destroy();
