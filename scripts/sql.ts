/**
 * SQL over the local archive with DuckDB (lib/analytics/sql.ts): the views `requests` and
 * `events` have the names and columns of the stack's Glue tables, so the same text runs on Athena.
 *
 *   npm run sql -- "SELECT type, count(*) FROM events GROUP BY type" [--archive DIR] [--json]
 *   npm run sql -- --query new-fans-by-channel-hour                  a saved query of queries/
 *   npm run sql -- --list                                            the saved queries
 *
 * Prints a table (or JSON lines with --json). Exit 0, 1 on an SQL error, 2 on bad arguments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openArchiveSql } from '../lib/analytics/sql.ts';
import { archiveDirOf, fail } from './archive-cli.ts';

const QUERIES = join(dirname(fileURLToPath(import.meta.url)), '..', 'queries');
const USAGE = 'Usage: npm run sql -- "SELECT …" | --query NAME | --list [--archive DIR] [--json]';
let parsed;
try {
  parsed = parseArgs({ options: { query: { type: 'string' }, list: { type: 'boolean', default: false }, archive: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true });
} catch (err) {
  fail(USAGE, (err as Error).message);
}
const { values, positionals } = parsed;
const saved = readdirSync(QUERIES).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort();
if (values.list) {
  for (const name of saved) console.log(name);
  process.exit(0);
}
let sql: string;
if (values.query) {
  if (!saved.includes(values.query)) fail(USAGE, `no saved query ${values.query} (${saved.join(', ')})`);
  sql = readFileSync(join(QUERIES, `${values.query}.sql`), 'utf8');
} else if (positionals.length === 1 && positionals[0]) sql = positionals[0];
else fail(USAGE, 'give one SQL statement or --query NAME');

const session = await openArchiveSql(archiveDirOf(values.archive));
try {
  const rows = await session.query(sql);
  if (values.json) for (const r of rows) console.log(JSON.stringify(r));
  else console.table(rows);
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  session.close();
}
