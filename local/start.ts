/**
 * `npm start`: the whole hub on this machine with embedded defaults.
 *   npm start                    in-memory DynamoDB Local
 *   npm start -- --data DIR      keep DynamoDB data in DIR across restarts (or HUB_DATA_DIR); the
 *                                archive (raw requests, applied events) goes to DIR/archive, else a temp dir
 * Ctrl-C stops everything, DynamoDB Local's java process included.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDynamoLocal, startSqsLocal } from './emulators.ts';
import { startHub } from './hub.ts';
import { describeConfig, loadConfig } from '../lib/config/index.ts';
import { FUNCTIONS } from '../lib/manifest.ts';

const t0 = Date.now();
const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    'dynamodb-port': { type: 'string', default: process.env.DYNAMODB_PORT ?? '8000' },
    'sqs-port': { type: 'string', default: process.env.SQS_PORT ?? '9324' },
  },
});
const dataDir = values.data ?? process.env.HUB_DATA_DIR;

// The hub's configuration: this environment, read only; the emulator clients get the local credentials (local/hub.ts).
const env = process.env;
const startCfg = loadConfig({ env, local: true });
console.log('SCRM Hub — starting the local runtime');
if (dataDir) mkdirSync(resolve(dataDir), { recursive: true });
const dynamo = await startDynamoLocal({ port: Number(values['dynamodb-port']), ...(dataDir ? { dataDir: resolve(dataDir) } : {}) });
const sqsServer = await startSqsLocal({ port: Number(values['sqs-port']) });

// The archive (lib/archive): beside the data with --data, else a fresh temporary directory.
const archiveDir = dataDir ? join(resolve(dataDir), 'archive') : mkdtempSync(join(tmpdir(), 'scrm-hub-archive-'));
const hub = await startHub({
  archiveDir,
  port: startCfg.PORT,
  standinPort: startCfg.WECHAT_STANDIN_PORT,
  env,
  endpoints: { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint },
  log: (l) => console.log(`  ${l}`),
});
const cfg = hub.runtime.cfg;

const routes = FUNCTIONS.flatMap((f) => (f.routes ?? []).map((r) => `  ${r.method.padEnd(5)} ${hub.url}${r.path}${r.admin ? '   (admin)' : ''}`));
console.log(`
DynamoDB Local   ${dynamo.endpoint}  (${dataDir ? `data in ${resolve(dataDir)}` : 'in memory'}), table ${cfg.HUB_TABLE}
SQS (local)      ${sqsServer.endpoint}  queues: ${Object.values(hub.queues).map((q) => q.url.split('/').pop()).join(', ')}
Archive          ${archiveDir}   (npm run sql -- --archive ${archiveDir} "SELECT …")
WeChat stand-in  ${hub.standin.url}   sent messages: GET ${hub.standin.url}/_local/messages
TOP stand-in     ${hub.top.url}   (TMC consume/confirm, trade.simple.get, trades.sold.increment.get; POST /_local/trades)
Youzan stand-in  ${hub.youzan.url}   (auth/token, youzan.trades.sold.get; POST /_local/trades)
Gateway          ${hub.url}
${routes.join('\n')}
  POST  ${hub.url}/_local/run/{function}   run a scheduled function now
  Dashboard: ${hub.url}/dashboard

Configuration (secrets masked):
${Object.entries(describeConfig(cfg))
  .map(([k, v]) => `  ${k.padEnd(24)} ${v}`)
  .join('\n')}

Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Ctrl-C to stop.`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await hub.stop().catch(() => undefined);
  await sqsServer.stop().catch(() => undefined);
  await dynamo.stop().catch(() => undefined);
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
