/**
 * The smaller doors, reproduced against the local runtime over HTTP (full Scan before and after
 * each refusal): CSV formula injection in codes.csv, a batch naming a channel that does not
 * exist, refunds above the amount paid and orders above the ceiling, over-long path ids,
 * invalid-code guessing per openid and per source IP (HUB_SCAN_INVALID_LIMIT, 5 in this file),
 * every local service bound to 127.0.0.1, and a set-but-empty setting failing the start.
 */
import { hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { inject } from 'vitest';
import { useTestHub } from '../support/hub.ts';

import { signedYouzan } from '../support/commerce-client.ts';
import { getItem, queryAll } from '../support/table.ts';
import { refusalPartition } from '../../lib/store/entities/refusal.ts';
import { invalidScanKey } from '../../lib/store/entities/scan-limit.ts';
import { localDay } from '../../lib/time.ts';
import { changes, NOTHING, postJson, snapshot } from './lib.ts';

const hub = useTestHub({ queuePrefix: 'secsm', functions: ['admin', 'codes-scan', 'youzan'], env: { HUB_SCAN_INVALID_LIMIT: '5' } });
const auth = () => ({ authorization: `Bearer ${hubConfig().HUB_ADMIN_TOKEN}` });
const admin = (path: string, body: unknown) => postJson(hub.url, path, body, auth());
const get = (path: string) => fetch(hub.url + path, { headers: auth() });

async function refusedWithoutWrites<T extends { status: number }>(send: () => Promise<T>, status: number): Promise<T> {
  const before = await snapshot(hub.aws.table);
  const res = await send();
  expect(res.status).toBe(status);
  expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  return res;
}

describe('code batches', () => {
  it('attack: a batch naming a channel that does not exist → 400 unknown_channel, nothing written', async () => {
    const res = await refusedWithoutWrites(() => admin('/codes/batches', { sku: 'S', name: 'N', points: 1, channel: 'never_created', count: 3 }), 400);
    expect(res.body.error).toBe('unknown_channel');
  });

  it('attack: codes.csv cells that a spreadsheet would run are neutralised', async () => {
    expect((await admin('/channels', { id: 'csv_sec', name: 'CSV', kind: 'code_batch' })).status).toBe(201);
    const created = await admin('/codes/batches', { sku: '=HYPERLINK("http://evil","x")', name: 'N', points: 1, channel: 'csv_sec', count: 2 });
    expect(created.status).toBe(201);
    const csv = await (await get(`/codes/batches/${created.body.batchId}/codes.csv`)).text();
    const row = csv.split('\r\n')[1]!;
    expect(row.endsWith(`,"'=HYPERLINK(""http://evil"",""x"")"`)).toBe(true);
  });

  it('attack: path ids longer than the key schema allows → 404, never 500', async () => {
    const long = 'A'.repeat(3000);
    expect((await get(`/members/${long}`)).status).toBe(404);
    expect((await get(`/codes/batches/${long}/codes.csv`)).status).toBe(404);
    expect((await postJson(hub.url, `/codes/batches/${long}/status`, { active: false }, auth())).status).toBe(404);
  });
});

describe('orders', () => {
  const youzan = async (type: string, msg: unknown, msgId: string) => {
    const raw = JSON.stringify({ client_id: hubConfig().YOUZAN_CLIENT_ID, id: 'E-SEC-REF', kdt_id: 1, msg: encodeURIComponent(JSON.stringify(msg)), msg_id: msgId, sendCount: 1, status: '', test: false, type, version: 1 });
    const push = signedYouzan(raw, type);
    const res = await fetch(hub.url + push.path, { method: 'POST', body: push.body, headers: { 'content-type': 'application/json', ...push.headers } });
    return { status: res.status, text: await res.text() };
  };
  const paid = (tid: string, yuan: string) => ({
    full_order_info: {
      order_info: { tid, status: 'WAIT_SELLER_SEND_GOODS', created: '2026-01-02 10:00:00', pay_time: '2026-01-02 10:01:00', update_time: '2026-01-02 10:01:00', order_tags: { is_payed: true } },
      buyer_info: { yz_open_id: 'yzSecRefund' },
      pay_info: { total_fee: yuan, post_fee: '0.00', payment: yuan },
    },
  });
  const refund = (tid: string, refundId: string, yuan: string) => ({ tid, refund_id: refundId, refunded_fee: yuan, update_time: '2026-01-03 10:00:00', yz_open_id: 'yzSecRefund' });

  it('attack: a refund above the amount paid → 400, recorded for review, the order unchanged', async () => {
    expect((await youzan('trade_TradePaid', paid('E-SEC-REF', '100.00'), 'sec-paid-1')).status).toBe(200);
    expect((await youzan('trade_refund_RefundSuccess', refund('E-SEC-REF', 'R-1', '60.00'), 'sec-ref-1')).status).toBe(200);
    const before = await snapshot(hub.aws.table);
    const res = await youzan('trade_refund_RefundSuccess', refund('E-SEC-REF', 'R-2', '50.00'), 'sec-ref-2');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toBe('refund_exceeds_paid');
    const d = changes(before, await snapshot(hub.aws.table));
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.added).toHaveLength(1);
    const day = localDay(Date.parse('2026-01-03T02:00:00Z'), hubConfig().HUB_TIMEZONE);
    const rows = await queryAll(hub.aws.table, refusalPartition(day));
    expect(rows.map((r) => [r.kind, r.reason, r.refundId, r.refundFen, r.refundedFen, r.paidFen])).toEqual([['refund', 'refund_exceeds_paid', 'R-2', 5000, 6000, 10000]]);
    // The platform's retry of the same message rewrites the same review row.
    expect((await youzan('trade_refund_RefundSuccess', refund('E-SEC-REF', 'R-2', '50.00'), 'sec-ref-2')).status).toBe(400);
    expect(await queryAll(hub.aws.table, refusalPartition(day))).toHaveLength(1);
  });

  it('attack: an order above HUB_ORDER_MAX_FEN (¥1,000,000) → 400, nothing written', async () => {
    const res = await refusedWithoutWrites(() => youzan('trade_TradePaid', paid('E-SEC-BIG', '1000000.01'), 'sec-big-1'), 400);
    expect(JSON.parse(res.text).error).toBe('amount_out_of_range');
  });
});

describe('invalid code guessing', () => {
  const scan = (openid: string, code: string) => postJson(hub.url, '/codes/scan', { appId: hubConfig().WECHAT_APP_ID, oauthCode: `local:${openid}`, code });

  it('attack: past the limit of invalid attempts per openid, scans answer limited and the refusal is recorded', async () => {
    for (let i = 0; i < 5; i++) expect((await scan('oGuesser', `ZZZZZZZZZ${i}`)).body).toEqual({ result: 'invalid' });
    const limited = await scan('oGuesser', 'ZZZZZZZZZZ');
    expect(limited.body).toEqual({ result: 'limited', reason: 'invalid_attempts' });
    const day = localDay(Date.now(), hubConfig().HUB_TIMEZONE);
    const refusals = (await queryAll(hub.aws.table, refusalPartition(day))).filter((r) => r.reason === 'invalid_attempts');
    expect(refusals.map((r) => r.subject)).toEqual([`wechat#${hubConfig().WECHAT_APP_ID}:oGuesser`]);
    expect(await getItem(hub.aws.table, invalidScanKey(`wechat#${hubConfig().WECHAT_APP_ID}:oGuesser`, day))).toMatchObject({ n: 5 });
  });

  it('attack: the same source IP with fresh openids is limited too (per IP per local day)', async () => {
    // The 5 attempts above came from 127.0.0.1 as well: a new openid from it is limited at once.
    const res = await scan('oGuesserTwo', 'ZZZZZZZZZY');
    expect(res.body).toEqual({ result: 'limited', reason: 'invalid_attempts' });
  });
});

describe('the local runtime', () => {
  it('binds DynamoDB Local, local SQS, the stand-ins and the gateway to 127.0.0.1 only', async () => {
    const ports = [inject('dynamoEndpoint'), inject('sqsEndpoint'), hub.url, hub.standin.url, hub.top.url].map((u) => Number(new URL(u).port));
    // Every listening socket of these ports, from the kernel's table (Linux).
    const tables = ['/proc/net/tcp', '/proc/net/tcp6'].filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
    expect(tables.length).toBeGreaterThan(0);
    const listening = tables
      .flatMap((t) => t.split('\n').slice(1))
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[3] === '0A')
      .map((c) => ({ addr: c[1]!.split(':')[0]!, port: parseInt(c[1]!.split(':')[1]!, 16) }))
      .filter((s) => ports.includes(s.port));
    for (const port of ports) expect(listening.some((s) => s.port === port), `port ${port} listens`).toBe(true);
    // 0100007F: 127.0.0.1; ::ffff:127.0.0.1 in tcp6. Never 00000000 (all interfaces) or ::.
    for (const s of listening) expect(['0100007F', '0000000000000000FFFF00000100007F']).toContain(s.addr);
    // And a connection to the loopback address answers.
    await new Promise<void>((resolve, reject) => connect(ports[0]!, '127.0.0.1').once('connect', function (this: import('node:net').Socket) { this.destroy(); resolve(); }).once('error', reject));
  });

  it('a setting set but empty stops `npm start` before anything starts, naming it', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
      env: { ...process.env, HUB_ADMIN_TOKEN: '', PORT: '1', HUB_LOG_LEVEL: 'WARN' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(/HUB_ADMIN_TOKEN is set but empty/);
    expect(`${run.stdout}${run.stderr}`).not.toContain('DynamoDB Local');
  });
});
