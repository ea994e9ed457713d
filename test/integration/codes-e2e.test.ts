/**
 * One-code-per-item codes end to end through the real runtime: admin API (batches, CSV) and
 * POST /codes/scan through the HTTP gateway → functions/codes-scan → lib/apply/scan-code → apply →
 * DynamoDB Local, with the WeChat stand-in answering the OAuth exchange.
 */
import { ddb, hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { counterItems, getItem, memberByOpenid as readMember, queryAll, scanAll } from '../support/table.ts';
import { seededRandom, type Rng } from '../support/random.ts';


import { keys } from '../../lib/store/keys.ts';
import { codeKey } from '../../lib/store/entities/code.ts';
import { refusalPartition } from '../../lib/store/entities/refusal.ts';
import { invalidScanKey, scanLimitKey } from '../../lib/store/entities/scan-limit.ts';
import { localDay } from '../../lib/time.ts';
import { mapLimit } from '../../lib/attribution/query.ts';
import { CODE_ALPHABET, codecFromSecret, formatCode, normalizeCode } from '../../lib/codes/codec.ts';
import { CODES_CSV_HEADER } from '../../lib/codes/csv.ts';
import { SERIAL_GAP } from '../../lib/codes/limits.ts';
import type { Batch as BatchItem } from '../../lib/store/entities/batch.ts';

// This file sends thousands of invalid codes from one address: the invalid-attempt limit
// (test/security/smaller.test.ts) is set out of reach here.
const hub = useTestHub({ queuePrefix: 'codes', functions: ['codes-scan', 'admin'], env: { HUB_SCAN_INVALID_LIMIT: '1000000' } });

const cfg = () => hubConfig();
const appId = () => cfg().WECHAT_APP_ID;

// ---------------------------------------------------------------------------------------------
// HTTP helpers

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

async function request(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await fetch(hub.url + path, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* CSV and other non-JSON answers */
  }
  return { status: res.status, headers: res.headers, text, body };
}

const adminHeaders = (json = false): Record<string, string> => ({
  authorization: `Bearer ${cfg().HUB_ADMIN_TOKEN}`,
  ...(json ? { 'content-type': 'application/json' } : {}),
});

function admin(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(method, path, { headers: adminHeaders(body !== undefined), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

interface BatchSpec {
  sku: string;
  name: string;
  points: number;
  channel: string;
  count: number;
  region?: string;
}

async function createBatch(spec: BatchSpec): Promise<BatchItem> {
  // A batch names a channel marketing created (else 400 unknown_channel).
  const ch = await admin('POST', '/channels', { id: spec.channel, name: spec.channel, kind: 'code_batch' });
  expect([201, 409], ch.text).toContain(ch.status);
  const r = await admin('POST', '/codes/batches', spec);
  expect(r.status, r.text).toBe(201);
  return r.body as unknown as BatchItem;
}

async function csvOf(batchId: string, qs = ''): Promise<Reply> {
  return request('GET', `/codes/batches/${batchId}/codes.csv${qs}`, { headers: adminHeaders() });
}

/** CSV lines without the final CRLF terminator (the last line ends with CRLF too). */
function csvLines(text: string): string[] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text.slice(0, -2).split('\r\n');
}

/** The canonical codes of a batch, in serial order, downloaded through the admin API. */
async function codesOf(batch: BatchItem): Promise<string[]> {
  const r = await csvOf(batch.batchId);
  expect(r.status, r.text).toBe(200);
  return csvLines(r.text)
    .slice(1)
    .map((l) => l.split(',')[0]!);
}

function scanBody(body: string, contentType = 'application/json'): Promise<Reply> {
  return request('POST', '/codes/scan', { body, headers: { 'content-type': contentType } });
}

function scan(openid: string, code: string): Promise<Reply> {
  return scanBody(JSON.stringify({ appId: appId(), oauthCode: `local:${openid}`, code }));
}

// ---------------------------------------------------------------------------------------------
// Table helpers

type Item = Record<string, unknown>;
interface Touch {
  channel: string;
  at: number;
}
interface MemberRow extends Item {
  memberId: string;
  points: number;
  status: string;
  firstTouch: Touch;
  lastTouch: Touch;
  h: { c: [number, string][] };
}
interface CodeRow extends Item {
  code: string;
  batchId: string;
  serial: number;
  memberId: string;
  openid: string;
  at: number;
}
interface RefusalRow extends Item {
  reason: string;
  code: string;
  serial: number;
  batchId: string;
  openid: string;
  at: number;
}

const memberByOpenid = (openid: string) => readMember<MemberRow>(hub.aws.table, openid);
const codeRow = (code: string) => getItem<CodeRow>(hub.aws.table, codeKey(code));
const memberRows = (memberId: string, prefix: string) => queryAll(hub.aws.table, keys.memberPartition(memberId), prefix);

/** A channel's metric for one attribution model, summed over every shard and every day. */
async function counterSum(channel: string, model: 'first' | 'last', metric = 'scans'): Promise<number> {
  return (await counterItems(hub.aws.table, channel, `${model}#`)).reduce((total, it) => total + Number(it[metric] ?? 0), 0);
}

/** Local days covering [from, to] (a test may straddle midnight in HUB_TIMEZONE). */
function daysBetween(from: number, to: number): string[] {
  return [...new Set([localDay(from, cfg().HUB_TIMEZONE), localDay(to, cfg().HUB_TIMEZONE)])];
}

async function refusalsOf(openid: string, days: string[]): Promise<RefusalRow[]> {
  const out: RefusalRow[] = [];
  for (const day of days) {
    const rows = await queryAll<RefusalRow>(hub.aws.table, refusalPartition(day));
    out.push(...rows.filter((it) => it.openid === `${appId()}:${openid}`));
  }
  return out;
}

const scanLimitRow = (openid: string, day: string) => getItem<Item>(hub.aws.table, scanLimitKey(appId(), openid, day));

// ---------------------------------------------------------------------------------------------
// Instruments and utilities

/** Records the name of every command sent through the process DynamoDB client while installed. */
function countDynamoRequests(): { commands: string[]; remove(): void } {
  const name = `codes-e2e-counter-${Math.random().toString(36).slice(2)}`;
  const commands: string[] = [];
  const stack = ddb().middlewareStack;
  stack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName ?? 'unknown'));
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { commands, remove: () => void stack.remove(name) };
}

/** Runs `fn` with HUB_* settings over the hub's configuration, restoring its runtime afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = hub.runtime;
  hub.reconfigure({ settings: vars });
  try {
    return await fn();
  } finally {
    hub.restore(saved);
  }
}

const LENIENT = { HUB_SCAN_DAILY_LIMIT: '100000', HUB_SCAN_BURST_LIMIT: '100000', HUB_SCAN_BURST_WINDOW_SECONDS: '600', HUB_SCAN_SEQUENTIAL_LIMIT: '100000' };

const int = (rnd: Rng, min: number, max: number) => min + Math.floor(rnd() * (max - min + 1));
const pickFrom = (rnd: Rng, chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(rnd() * chars.length)]).join('');
const fromRange = (rnd: Rng, lo: number, hi: number, n: number) => Array.from({ length: n }, () => String.fromCharCode(int(rnd, lo, hi))).join('');
const toFullWidth = (s: string) => [...s].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

/** A random string of 1..64 characters in one of several shapes, most of them code-like. */
function randomString(rnd: Rng): string {
  const k = rnd();
  if (k < 0.3) return pickFrom(rnd, CODE_ALPHABET, 20); // code-shaped: any key id, serial and tag
  if (k < 0.45) return formatCode('A0000000' + pickFrom(rnd, CODE_ALPHABET, 12)); // issued-looking serial, printed form
  if (k < 0.5) return toFullWidth(('A0000000' + pickFrom(rnd, CODE_ALPHABET, 12)).toLowerCase()); // full-width, folds to a code shape
  if (k < 0.7) return pickFrom(rnd, PRINTABLE, int(rnd, 1, 64));
  if (k < 0.8) return pickFrom(rnd, CODE_ALPHABET + 'ilo-', int(rnd, 1, 40)); // mostly the wrong length
  if (k < 0.9) return fromRange(rnd, 0x4e00, 0x9fff, int(rnd, 1, 30)); // CJK
  return pickFrom(rnd, ' -\t0', int(rnd, 1, 24));
}

/** A near miss of a valid canonical code: one substitution, transposition, deletion or insertion. */
function nearMiss(code: string, rnd: Rng): string {
  for (;;) {
    const i = int(rnd, 0, code.length - 1);
    let out: string;
    switch (Math.floor(rnd() * 6)) {
      case 0: // substitute a symbol with a different one
        out = code.slice(0, i) + CODE_ALPHABET[(CODE_ALPHABET.indexOf(code[i]!) + int(rnd, 1, 31)) % 32] + code.slice(i + 1);
        break;
      case 1: {
        // transpose two adjacent different characters
        const j = Math.min(i, code.length - 2);
        out = code.slice(0, j) + code[j + 1] + code[j] + code.slice(j + 2);
        break;
      }
      case 2: // drop one character
        out = code.slice(0, i) + code.slice(i + 1);
        break;
      case 3: // insert one symbol
        out = code.slice(0, i) + CODE_ALPHABET[int(rnd, 0, 31)] + code.slice(i);
        break;
      case 4: // a substitution in the printed, lower-cased form
        out = formatCode(code.slice(0, i) + CODE_ALPHABET[(CODE_ALPHABET.indexOf(code[i]!) + int(rnd, 1, 31)) % 32] + code.slice(i + 1)).toLowerCase();
        break;
      default: // a character outside the alphabet
        out = code.slice(0, i) + 'U' + code.slice(i + 1);
    }
    if (normalizeCode(out) !== code) return out;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------

describe('batches and their CSV', () => {
  it('creates batches with disjoint serial ranges and serves every code, verified, in serial order', async () => {
    const a = await createBatch({ sku: 'SKU-CSV-1', name: 'Green tea 250 g', points: 5, channel: 'csv_ch', count: 1_200, region: 'east' });
    expect(a).toMatchObject({ sku: 'SKU-CSV-1', name: 'Green tea 250 g', points: 5, channel: 'csv_ch', count: 1_200, region: 'east', active: true });
    expect(Number.isSafeInteger(a.firstSerial) && a.firstSerial >= 0).toBe(true);
    const b = await createBatch({ sku: 'SKU,CSV "2"', name: 'Oolong', points: 1, channel: 'csv_ch', count: 3 });
    expect(b.firstSerial).toBe(a.firstSerial + a.count);
    expect(b.batchId).not.toBe(a.batchId);

    const r = await csvOf(a.batchId);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('link')).toBeNull();
    const lines = csvLines(r.text);
    expect(lines[0]).toBe(CODES_CSV_HEADER);
    expect(CODES_CSV_HEADER).toBe('code,printed,serial,batch,sku');
    expect(lines).toHaveLength(1 + 1_200);
    const codec = codecFromSecret(cfg().CODE_SIGNING_SECRET);
    const seen = new Set<string>();
    lines.slice(1).forEach((line, i) => {
      const [code, printed, serial, batch, sku, ...rest] = line.split(',');
      expect(rest).toEqual([]);
      const v = codec.verify(code!);
      expect(v).toEqual({ ok: true, serial: a.firstSerial + i, keyId: 'A', canonical: code });
      expect(printed).toBe(formatCode(code!));
      expect(codec.verify(printed!)).toEqual(v);
      expect(Number(serial)).toBe(a.firstSerial + i);
      expect(batch).toBe(a.batchId);
      expect(sku).toBe('SKU-CSV-1');
      seen.add(code!);
    });
    expect(seen.size).toBe(1_200);

    // A page in the middle, then the last page (no `next` link).
    const page = await csvOf(a.batchId, '?offset=1000&limit=150');
    expect(page.status).toBe(200);
    const pageLines = csvLines(page.text);
    expect(pageLines).toHaveLength(1 + 150);
    expect(pageLines[1]).toBe(lines[1 + 1000]);
    expect(pageLines[150]).toBe(lines[1 + 1149]);
    expect(page.headers.get('link')).toBe(`</codes/batches/${a.batchId}/codes.csv?offset=1150&limit=150>; rel="next"`);
    const last = await csvOf(a.batchId, '?offset=1150&limit=150');
    expect(csvLines(last.text).slice(1)).toEqual(lines.slice(1 + 1150));
    expect(last.headers.get('link')).toBeNull();

    // RFC 4180 quoting of a SKU holding a comma and quotes.
    const quoted = csvLines((await csvOf(b.batchId)).text);
    expect(quoted).toHaveLength(4);
    expect(quoted[1]!.endsWith(`,${b.firstSerial},${b.batchId},"SKU,CSV ""2"""`)).toBe(true);
    expect(codec.verify(quoted[3]!.split(',')[0]!)).toMatchObject({ ok: true, serial: b.firstSerial + 2 });
  });

  it('rejects bad admin requests', async () => {
    expect((await request('POST', '/codes/batches', { body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    const bad = await admin('POST', '/codes/batches', { sku: 'X', name: 'Y', points: 1, channel: 'c', count: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
    expect((await admin('GET', '/codes/batches/nope/codes.csv')).status).toBe(404);
    expect((await admin('POST', '/codes/batches/nope/status', { active: false })).status).toBe(404);
    const b = await createBatch({ sku: 'SKU-ADM', name: 'Admin', points: 1, channel: 'adm_ch', count: 10 });
    expect((await admin('POST', `/codes/batches/${b.batchId}/status`, { active: 'no' })).status).toBe(400);
    expect((await csvOf(b.batchId, '?offset=11')).status).toBe(400);
    expect((await csvOf(b.batchId, '?limit=0')).status).toBe(400);
    expect((await csvOf(b.batchId, '?limit=50001')).status).toBe(400);
    const empty = await csvOf(b.batchId, '?offset=10');
    expect(empty.status).toBe(200);
    expect(empty.text).toBe(`${CODES_CSV_HEADER}\r\n`);
  });
});

describe('redemption', () => {
  it('20 concurrent scans of one code by 20 people: exactly one redeems, points and scans counted once', async () => {
    const batch = await createBatch({ sku: 'SKU-RACE', name: 'Race tea', points: 30, channel: 'race_ch', count: 5 });
    const [code] = await codesOf(batch);
    const product = { sku: 'SKU-RACE', name: 'Race tea' };
    const users = Array.from({ length: 20 }, (_, i) => `u${i + 1}`);
    const replies = await Promise.all(users.map((u) => scan(u, code!)));
    for (const r of replies) expect(r.status, r.text).toBe(200);

    const winners = users.filter((_, i) => replies[i]!.body.result === 'redeemed');
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    const row = await codeRow(code!);
    expect(row).toMatchObject({ code, batchId: batch.batchId, serial: batch.firstSerial, openid: `${appId()}:${winner}` });
    expect(replies[users.indexOf(winner)]!.body).toEqual({ result: 'redeemed', points: 30, balance: 30, product });
    const losers = users.filter((u) => u !== winner);
    expect(losers).toHaveLength(19);
    for (const u of losers) {
      const r = replies[users.indexOf(u)]!;
      // When, never who: exactly these fields.
      expect(r.body).toEqual({ result: 'already_redeemed', redeemedAt: row!.at, product });
      expect(r.text).not.toContain(winner);
    }

    // Scanning the redeemed code again — its owner, then someone else — has no effect: the
    // code row, the winner's whole partition (profile with its version, ledger, lot), the
    // other person's record and the channel's counters are exactly as before.
    const winnerId = String(row!.memberId);
    const state = async () => ({
      code: await codeRow(code!),
      partition: await queryAll(hub.aws.table, keys.memberPartition(winnerId)),
      loser: (await memberByOpenid(losers[0]!)) ?? null,
      counters: await counterItems(hub.aws.table, 'race_ch'),
    });
    const before = await state();
    expect(before.partition.length).toBeGreaterThanOrEqual(3);
    expect((await scan(winner, code!)).body).toEqual({ result: 'already_redeemed_by_you', redeemedAt: row!.at, product });
    expect((await scan(losers[0]!, code!)).body).toEqual({ result: 'already_redeemed', redeemedAt: row!.at, product });
    expect(await state()).toEqual(before);

    const m = await memberByOpenid(winner);
    expect(m).toMatchObject({ memberId: row!.memberId, points: 30, status: 'fan', firstTouch: { channel: 'race_ch' } });
    expect(m!.h.c).toEqual([[row!.at, 'race_ch']]);
    const ledger = await memberRows(m!.memberId, 'LEDGER#');
    expect(ledger.map((l) => [l.delta, l.balanceAfter, l.reason, l.ref])).toEqual([[30, 30, 'scan', code]]);
    expect(await memberRows(m!.memberId, 'LOT#')).toHaveLength(1);
    for (const u of losers) expect((await memberByOpenid(u))?.points ?? 0).toBe(0);

    expect(await counterSum('race_ch', 'first')).toBe(1);
    expect(await counterSum('race_ch', 'last')).toBe(1);
  });

  it('a scan by a new openid creates a fan whose first touch is the batch channel', async () => {
    const batch = await createBatch({ sku: 'SKU-FAN', name: 'Fan tea', points: 5, channel: 'fan_ch', count: 3 });
    const codes = await codesOf(batch);
    expect(await memberByOpenid('fresh_fan_1')).toBeUndefined();
    const before = Date.now();
    const r = await scan('fresh_fan_1', formatCode(codes[1]!).toLowerCase()); // the printed form, as typed
    const after = Date.now();
    expect(r.body).toEqual({ result: 'redeemed', points: 5, balance: 5, product: { sku: 'SKU-FAN', name: 'Fan tea' } });
    const m = await memberByOpenid('fresh_fan_1');
    expect(m).toMatchObject({ status: 'fan', points: 5, firstTouch: { channel: 'fan_ch' }, lastTouch: { channel: 'fan_ch' }, wechat: { appId: appId(), openid: 'fresh_fan_1', followed: false } });
    expect(m!.firstTouch.at).toBeGreaterThanOrEqual(before);
    expect(m!.firstTouch.at).toBeLessThanOrEqual(after);
    // Stored under its canonical form.
    expect(await codeRow(codes[1]!)).toMatchObject({ memberId: m!.memberId, serial: batch.firstSerial + 1 });
    expect(await counterSum('fan_ch', 'first')).toBe(1);
    expect(await counterSum('fan_ch', 'last')).toBe(1);
  });

  it('an inactive batch answers `inactive` and writes nothing; reactivated, its codes redeem', async () => {
    const batch = await createBatch({ sku: 'SKU-OFF', name: 'Paused tea', points: 9, channel: 'off_ch', count: 4 });
    const codes = await codesOf(batch);
    const off = await admin('POST', `/codes/batches/${batch.batchId}/status`, { active: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ batchId: batch.batchId, active: false });
    const r = await scan('inactive_u1', codes[0]!);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ result: 'inactive', product: { sku: 'SKU-OFF', name: 'Paused tea' } });
    expect(await codeRow(codes[0]!)).toBeUndefined();
    expect(await memberByOpenid('inactive_u1')).toBeUndefined();
    expect(await counterSum('off_ch', 'last')).toBe(0);

    const on = await admin('POST', `/codes/batches/${batch.batchId}/status`, { active: true });
    expect(on.body).toMatchObject({ active: true });
    expect((await scan('inactive_u1', codes[0]!)).body).toMatchObject({ result: 'redeemed', points: 9, balance: 9 });
    expect(await counterSum('off_ch', 'last')).toBe(1);
  });
});

describe('invalid codes', () => {
  it('10,000 random strings and 1,000 near misses are `invalid` at a bounded cost: one OAuth exchange, one counter read and one counter write each', async () => {
    const batch = await createBatch({ sku: 'SKU-NEAR', name: 'Near miss', points: 2, channel: 'near_ch', count: 100 });
    const valid = await codesOf(batch);
    const rnd = seededRandom(20_240_611);
    const randoms = Array.from({ length: 10_000 }, () => randomString(rnd));
    const near = Array.from({ length: 1_000 }, (_, i) => nearMiss(valid[i % valid.length]!, rnd));
    const inputs = [...randoms, ...near];
    expect(inputs.every((s) => s.length >= 1 && s.length <= 128)).toBe(true);
    expect(near.filter((s) => valid.includes(s))).toEqual([]);
    // None of them carries a valid signature, so none reaches the batch index.
    const codec = codecFromSecret(cfg().CODE_SIGNING_SECRET);
    expect(inputs.filter((s) => codec.verify(s).ok)).toEqual([]);

    const USERS = 64;
    const day = localDay(Date.now(), cfg().HUB_TIMEZONE);
    const subjectOf = (u: string) => `wechat#${appId()}:${u}`;
    const counterOf = async (subject: string) => (await getItem<Item>(hub.aws.table, invalidScanKey(subject, day)))?.n ?? 0;
    const users = Array.from({ length: USERS }, (_, k) => `inv_u${k}`);
    const before = await Promise.all(users.map((u) => counterOf(subjectOf(u))));
    const ipSubjects = async () => (await scanAll<Item>(hub.aws.table)).filter((i) => String(i.pk).startsWith('SCANBAD#ip#') && i.sk === day);
    const ipBefore = new Map((await ipSubjects()).map((i) => [String(i.pk), Number(i.n)]));

    const callsBefore = hub.standin.calls().length;
    const counter = countDynamoRequests();
    try {
      const replies = await mapLimit(inputs, 32, (code, i) => scan(users[i % USERS]!, code));
      const wrong = replies.flatMap((r, i) => (r.status === 200 && r.text === '{"result":"invalid"}' ? [] : [{ input: inputs[i], status: r.status, text: r.text }]));
      expect(wrong.slice(0, 5)).toEqual([]);
      // Per attempt: the two invalid-attempt counters (openid, IP) read in one BatchGetItem and
      // incremented in one transaction; no Query of the batch index, no code or member item.
      const tally = (names: string[]) => Object.fromEntries([...new Set(names)].sort().map((n) => [n, names.filter((x) => x === n).length]));
      expect(tally(counter.commands)).toEqual({ BatchGetItemCommand: inputs.length, TransactWriteItemsCommand: inputs.length });
      // Exactly one OAuth exchange per attempt, nothing else sent to WeChat.
      const calls = hub.standin.calls().slice(callsBefore).map((c) => c.path);
      expect(calls.length).toBe(inputs.length);
      expect(new Set(calls)).toEqual(new Set(['/sns/oauth2/access_token']));
    } finally {
      counter.remove();
    }
    // Each openid counted once per attempt it made: 11,000 = 64 × 171 + 56, so users 0..55 made 172, the rest 171.
    const after = await Promise.all(users.map((u) => counterOf(subjectOf(u))));
    expect(after.map((n, k) => Number(n) - Number(before[k]))).toEqual(users.map((_, k) => (k < 56 ? 172 : 171)));
    // And the source address counted every attempt (all came from this test's one address).
    const ipDeltas = (await ipSubjects()).map((i) => Number(i.n) - (ipBefore.get(String(i.pk)) ?? 0)).filter((d) => d > 0);
    expect(ipDeltas).toEqual([inputs.length]);
    // No member, no redemption, no refusal came of it.
    expect(await memberByOpenid('inv_u0')).toBeUndefined();
    for (const c of valid.slice(0, 10)) expect(await codeRow(c)).toBeUndefined();
    expect(await refusalsOf('inv_u0', daysBetween(Date.now(), Date.now()))).toEqual([]);

    const counter2 = countDynamoRequests();
    const callsMid = hub.standin.calls().length;
    try {
      // The instruments do see a genuine scan: a batch lookup and more, and one OAuth exchange.
      const ok = await scan('inv_probe', valid[7]!);
      expect(ok.body).toMatchObject({ result: 'redeemed', points: 2 });
      expect(counter2.commands.length).toBeGreaterThan(3);
      expect(counter2.commands).toContain('QueryCommand');
      expect(counter2.commands).toContain('TransactWriteItemsCommand');
      expect(hub.standin.calls().slice(callsMid).map((c) => c.path)).toEqual(['/sns/oauth2/access_token']);

      // A correctly signed code for a serial no batch holds: the counter read, one index read,
      // the counter write; one OAuth exchange.
      counter2.commands.length = 0;
      const orphan = codec.encode(batch.firstSerial + 5_000_000);
      expect((await scan('inv_probe', orphan)).body).toEqual({ result: 'invalid' });
      expect(counter2.commands).toEqual(['BatchGetItemCommand', 'QueryCommand', 'TransactWriteItemsCommand']);
      expect(hub.standin.calls().length).toBe(callsMid + 2);
      expect(await counterOf(subjectOf('inv_probe'))).toBe(1);
    } finally {
      counter2.remove();
    }
  }, 180_000);
});

describe('abuse limits', () => {
  it('daily cap: the next redemption is `limited`, recorded with its reason, the code stays redeemable', async () => {
    await withEnv({ ...LENIENT, HUB_SCAN_DAILY_LIMIT: '3' }, async () => {
      const batch = await createBatch({ sku: 'SKU-DAY', name: 'Daily', points: 7, channel: 'lim_day_ch', count: 12 });
      const codes = await codesOf(batch);
      const product = { sku: 'SKU-DAY', name: 'Daily' };
      const u = 'lim_day_u';
      const before = Date.now();
      for (const [k, i] of [0, 2, 4].entries()) expect((await scan(u, codes[i]!)).body).toEqual({ result: 'redeemed', points: 7, balance: 7 * (k + 1), product });
      const refused = await scan(u, codes[6]!);
      const after = Date.now();
      expect(refused.status).toBe(200);
      expect(refused.body).toEqual({ result: 'limited', reason: 'daily_limit', product });
      expect(await codeRow(codes[6]!)).toBeUndefined();
      const refusals = await refusalsOf(u, daysBetween(before, after));
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatchObject({ reason: 'daily_limit', code: codes[6], serial: batch.firstSerial + 6, batchId: batch.batchId, openid: `${appId()}:${u}` });
      expect(refusals[0]!.at).toBeGreaterThanOrEqual(before);
      expect(refusals[0]!.at).toBeLessThanOrEqual(after);
      expect((await scanLimitRow(u, localDay(after, cfg().HUB_TIMEZONE)))?.count).toBe(3);
      expect((await memberByOpenid(u))?.points).toBe(21);

      // Re-scanning one's own code is answered, not limited; the refused code redeems for someone else.
      expect((await scan(u, codes[0]!)).body).toMatchObject({ result: 'already_redeemed_by_you' });
      expect((await scan('lim_day_other', codes[6]!)).body).toMatchObject({ result: 'redeemed', points: 7 });
      expect((await scan(u, codes[8]!)).body).toEqual({ result: 'limited', reason: 'daily_limit', product });
      expect(await refusalsOf(u, daysBetween(before, Date.now()))).toHaveLength(2);
      expect((await memberByOpenid(u))?.points).toBe(21);
      expect(await counterSum('lim_day_ch', 'last')).toBe(4);
    });
  });

  it('burst: more than the limit within the window is `limited`; after the window it redeems', async () => {
    await withEnv({ ...LENIENT, HUB_SCAN_BURST_LIMIT: '2', HUB_SCAN_BURST_WINDOW_SECONDS: '3' }, async () => {
      const batch = await createBatch({ sku: 'SKU-BURST', name: 'Burst', points: 4, channel: 'lim_burst_ch', count: 10 });
      const codes = await codesOf(batch);
      const u = 'lim_burst_u';
      const before = Date.now();
      expect((await scan(u, codes[0]!)).body).toMatchObject({ result: 'redeemed' });
      expect((await scan(u, codes[3]!)).body).toMatchObject({ result: 'redeemed' });
      const third = await scan(u, codes[6]!);
      expect(third.body).toEqual({ result: 'limited', reason: 'burst', product: { sku: 'SKU-BURST', name: 'Burst' } });
      expect(await codeRow(codes[6]!)).toBeUndefined();
      const refusals = await refusalsOf(u, daysBetween(before, Date.now()));
      expect(refusals.map((r) => [r.reason, r.code, r.serial])).toEqual([['burst', codes[6], batch.firstSerial + 6]]);
      await sleep(3_100);
      expect((await scan(u, codes[6]!)).body).toMatchObject({ result: 'redeemed', balance: 12 });
      expect((await memberByOpenid(u))?.points).toBe(12);
    });
  });

  it('sequential serials: a run of serials at most SERIAL_GAP apart reaching the limit is `limited`, from either side and across gaps', async () => {
    expect(SERIAL_GAP).toBe(4);
    await withEnv({ ...LENIENT, HUB_SCAN_SEQUENTIAL_LIMIT: '3' }, async () => {
      const batch = await createBatch({ sku: 'SKU-SEQ', name: 'Sequential', points: 1, channel: 'lim_seq_ch', count: 40 });
      const codes = await codesOf(batch);
      const u = 'lim_seq_u';
      const seq = { result: 'limited', reason: 'sequential_serials', product: { sku: 'SKU-SEQ', name: 'Sequential' } };
      const before = Date.now();
      // Hand-computed: a run is the chain of redeemed serials whose neighbours are ≤ 4 apart.
      const steps: [number, 'redeemed' | 'limited'][] = [
        [10, 'redeemed'], // first redemption
        [15, 'redeemed'], // 15 − 10 = 5: no chain; run {15}
        [20, 'redeemed'], // 20 − 15 = 5: run {20}
        [13, 'limited'], // 13 − 10 = 3, 15 − 13 = 2: run {10, 13, 15} = 3
        [24, 'redeemed'], // 24 − 20 = 4: run {20, 24} = 2
        [28, 'limited'], // 28 − 24 = 4, 24 − 20 = 4: run {20, 24, 28} = 3 (from above, gaps of 4)
        [17, 'limited'], // bridges 15 and 20: run {15, 17, 20, 24} = 4 (10 is 5 below 15)
        [6, 'redeemed'], // 10 − 6 = 4, 15 − 10 = 5: run {6, 10} = 2
        [2, 'limited'], // 6 − 2 = 4: run {2, 6, 10} = 3 (from below)
        [35, 'redeemed'], // 35 − 24 = 11: run {35}
        [30, 'redeemed'], // 30 − 24 = 6, 35 − 30 = 5: run {30}
      ];
      for (const [i, want] of steps) {
        const r = await scan(u, codes[i]!);
        if (want === 'limited') expect(r.body, `serial ${i}`).toEqual(seq);
        else expect(r.body.result, `serial ${i}`).toBe('redeemed');
      }
      const refused = steps.filter(([, w]) => w === 'limited').map(([i]) => i);
      const redeemed = steps.filter(([, w]) => w === 'redeemed').map(([i]) => i);
      const refusals = await refusalsOf(u, daysBetween(before, Date.now()));
      expect(refusals.map((r) => [r.reason, r.serial - batch.firstSerial]).sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual(
        [...refused].sort((a, b) => a - b).map((i) => ['sequential_serials', i]),
      );
      for (const i of refused) expect(await codeRow(codes[i]!)).toBeUndefined();
      for (const i of redeemed) expect(await codeRow(codes[i]!)).toBeDefined();
      expect((await memberByOpenid(u))?.points).toBe(redeemed.length);
      // Someone else's run does not count against another person.
      expect((await scan('lim_seq_other', codes[13]!)).body.result).toBe('redeemed');
    });
  });

  it("a person's first redemption is never limited, even at the tightest limits", async () => {
    await withEnv({ HUB_SCAN_DAILY_LIMIT: '1', HUB_SCAN_BURST_LIMIT: '1', HUB_SCAN_BURST_WINDOW_SECONDS: '600', HUB_SCAN_SEQUENTIAL_LIMIT: '2' }, async () => {
      const batch = await createBatch({ sku: 'SKU-FIRST', name: 'First', points: 3, channel: 'lim_first_ch', count: 10 });
      const codes = await codesOf(batch);
      const users = ['lim_first_1', 'lim_first_2', 'lim_first_3', 'lim_first_4', 'lim_first_5'];
      const before = Date.now();
      // Consecutive serials, concurrently, one each.
      const replies = await Promise.all(users.map((u, i) => scan(u, codes[i]!)));
      expect(replies.map((r) => r.body)).toEqual(users.map(() => ({ result: 'redeemed', points: 3, balance: 3, product: { sku: 'SKU-FIRST', name: 'First' } })));
      const second = await scan('lim_first_1', codes[7]!);
      expect(second.body).toMatchObject({ result: 'limited', reason: 'daily_limit' });
      const days = daysBetween(before, Date.now());
      expect((await refusalsOf('lim_first_1', days)).map((r) => r.reason)).toEqual(['daily_limit']);
      for (const u of users.slice(1)) expect(await refusalsOf(u, days)).toEqual([]);
      expect(await counterSum('lim_first_ch', 'last')).toBe(5);
    });
  });
});

describe('bad requests', () => {
  it('answer 4xx with a reason and write nothing', async () => {
    const batch = await createBatch({ sku: 'SKU-BAD', name: 'Bad', points: 8, channel: 'bad_ch', count: 2 });
    const [code] = await codesOf(batch);
    const u = 'bad_req_u';
    const ok = { appId: appId(), oauthCode: `local:${u}`, code: code! };
    const { appId: _a, ...noApp } = ok;
    const { oauthCode: _o, ...noOauth } = ok;
    const { code: _c, ...noCode } = ok;
    const cases: [string, string, string | undefined, number, string][] = [
      ['missing code', JSON.stringify(noCode), undefined, 400, 'bad_request'],
      ['missing oauthCode', JSON.stringify(noOauth), undefined, 400, 'bad_request'],
      ['missing appId', JSON.stringify(noApp), undefined, 400, 'bad_request'],
      ['empty object', '{}', undefined, 400, 'bad_request'],
      ['unknown field', JSON.stringify({ ...ok, extra: 1 }), undefined, 400, 'bad_request'],
      ['number appId', JSON.stringify({ ...ok, appId: 42 }), undefined, 400, 'bad_request'],
      ['empty code', JSON.stringify({ ...ok, code: '' }), undefined, 400, 'bad_request'],
      ['code too long', JSON.stringify({ ...ok, code: 'A'.repeat(129) }), undefined, 400, 'bad_request'],
      ['array body', JSON.stringify([ok]), undefined, 400, 'bad_request'],
      ['null body', 'null', undefined, 400, 'bad_request'],
      ['unknown appId', JSON.stringify({ ...ok, appId: 'wx0000000000000000' }), undefined, 400, 'unknown_app'],
      ['non-JSON', '{"appId": "wx', undefined, 400, 'malformed_json'],
      ['not JSON at all', 'code=ABC', 'application/x-www-form-urlencoded', 400, 'unsupported_media_type'],
      ['bad oauth code', JSON.stringify({ ...ok, oauthCode: 'nope' }), undefined, 400, 'invalid_oauth_code'],
      ['oversized body', JSON.stringify({ ...ok, pad: 'x'.repeat(5_000) }), undefined, 413, 'payload_too_large'],
    ];
    const counter = countDynamoRequests();
    try {
      for (const [label, body, type, status, error] of cases) {
        const r = await scanBody(body, type);
        expect({ label, status: r.status, error: r.body.error }).toEqual({ label, status, error });
        expect(typeof r.body.message === 'string' && (r.body.message as string).length > 0, label).toBe(true);
      }
      const details = (await scanBody(JSON.stringify(noCode))).body.details as string[];
      expect(details.some((d) => d.startsWith('code:'))).toBe(true);
      expect(counter.commands.filter((c) => !/^(Get|Query)Command$/.test(c))).toEqual([]);
    } finally {
      counter.remove();
    }
    expect(await codeRow(code!)).toBeUndefined();
    expect(await memberByOpenid(u)).toBeUndefined();
    expect(await scanLimitRow(u, localDay(Date.now(), cfg().HUB_TIMEZONE))).toBeUndefined();
    // The same request, well formed, redeems.
    expect((await scan(u, code!)).body).toMatchObject({ result: 'redeemed', points: 8 });
  });
});

describe('1,000-scan scenario', () => {
  it('per-member points and per-channel scan counters equal what the scans deserve', async () => {
    await withEnv(LENIENT, async () => {
      const specs: BatchSpec[] = [
        { sku: 'SCN-A', name: 'Scenario A', points: 10, channel: 'scn_a', count: 160 },
        { sku: 'SCN-B', name: 'Scenario B', points: 25, channel: 'scn_b', count: 140 },
        { sku: 'SCN-C', name: 'Scenario C', points: 0, channel: 'scn_c', count: 120 },
        { sku: 'SCN-D', name: 'Scenario D', points: 3, channel: 'scn_d', count: 180 },
      ];
      const batches: BatchItem[] = [];
      for (const s of specs) batches.push(await createBatch(s));
      const codes = await Promise.all(batches.map((b) => codesOf(b)));
      const batchOf = new Map<string, BatchItem>();
      batches.forEach((b, i) => codes[i]!.forEach((c) => batchOf.set(c, b)));

      // The scans: ~200 people, random codes (so some codes are wanted by several people), some
      // repeats of one's own earlier code, some invalid codes.
      const rnd = seededRandom(1_000);
      const users = Array.from({ length: 200 }, (_, i) => `scn_u${i}`);
      const perUser = new Map<string, string[]>();
      for (let i = 0; i < 1_000; i++) {
        const u = users[Math.floor(rnd() * users.length)]!;
        const mine = perUser.get(u) ?? [];
        const r = rnd();
        let code: string;
        if (r < 0.08) {
          const any = codes[Math.floor(rnd() * 4)]!;
          code = rnd() < 0.5 ? nearMiss(any[Math.floor(rnd() * any.length)]!, rnd) : randomString(rnd);
        } else if (r < 0.18 && mine.length) code = mine[Math.floor(rnd() * mine.length)]!;
        else {
          const b = codes[Math.floor(rnd() * 4)]!;
          code = b[Math.floor(rnd() * b.length)]!;
        }
        mine.push(code);
        perUser.set(u, mine);
      }
      const people = [...perUser.keys()];
      expect(people.length).toBeGreaterThan(180);

      // Each person scans in order; people scan concurrently.
      const log: { user: string; code: string; body: Record<string, unknown>; status: number }[] = [];
      await mapLimit(people, 12, async (u) => {
        for (const code of perUser.get(u)!) {
          const r = await scan(u, code);
          log.push({ user: u, code, body: r.body, status: r.status });
        }
      });
      expect(log).toHaveLength(1_000);
      expect(log.filter((l) => l.status !== 200)).toEqual([]);

      // Independent bookkeeping from the scans and the batch definitions.
      const invalid = log.filter((l) => !batchOf.has(l.code));
      expect(invalid.length).toBeGreaterThan(40);
      for (const l of invalid) expect(l.body).toEqual({ result: 'invalid' });
      const byCode = new Map<string, typeof log>();
      for (const l of log) if (batchOf.has(l.code)) byCode.set(l.code, [...(byCode.get(l.code) ?? []), l]);
      const winnerOf = new Map<string, string>();
      let contested = 0;
      for (const [code, scans] of byCode) {
        const won = scans.filter((s) => s.body.result === 'redeemed');
        expect(won.map((s) => s.code)).toEqual([code]);
        const winner = won[0]!.user;
        winnerOf.set(code, winner);
        const b = batchOf.get(code)!;
        expect(won[0]!.body).toMatchObject({ points: b.points, product: { sku: b.sku, name: b.name } });
        const others = scans.filter((s) => s !== won[0]);
        if (others.some((s) => s.user !== winner)) contested++;
        const at = new Set(others.map((s) => s.body.redeemedAt));
        expect(at.size).toBeLessThanOrEqual(1);
        for (const s of others) expect(s.body.result).toBe(s.user === winner ? 'already_redeemed_by_you' : 'already_redeemed');
      }
      expect(contested).toBeGreaterThan(20);
      expect(log.filter((l) => l.body.result === 'already_redeemed_by_you').length).toBeGreaterThan(15);

      const expectedPoints = new Map<string, number>();
      const lastChannel = new Map<string, number>();
      const firstChannel = new Map<string, number>();
      const firstWin = new Map<string, string>();
      for (const l of log) {
        // `log` holds each person's scans in their order.
        if (l.body.result !== 'redeemed') continue;
        const b = batchOf.get(l.code)!;
        expectedPoints.set(l.user, (expectedPoints.get(l.user) ?? 0) + b.points);
        lastChannel.set(b.channel, (lastChannel.get(b.channel) ?? 0) + 1);
        if (!firstWin.has(l.user)) firstWin.set(l.user, b.channel);
        const fc = firstWin.get(l.user)!;
        firstChannel.set(fc, (firstChannel.get(fc) ?? 0) + 1);
        expect(l.body.balance).toBe(expectedPoints.get(l.user));
      }
      expect([...winnerOf.values()].length).toBe(log.filter((l) => l.body.result === 'redeemed').length);

      // Code rows: the winner's, once each.
      await mapLimit([...winnerOf], 16, async ([code, winner]) => {
        const row = await codeRow(code);
        expect(row).toMatchObject({ code, openid: `${appId()}:${winner}`, batchId: batchOf.get(code)!.batchId });
        const later = byCode.get(code)!.find((s) => s.body.result !== 'redeemed');
        if (later) expect(later.body.redeemedAt).toBe(row!.at);
      });

      // Members: points equal the sum of points of the codes they redeemed; nobody else has any.
      await mapLimit(people, 12, async (u) => {
        const m = await memberByOpenid(u);
        if (!expectedPoints.has(u)) {
          expect(m?.points ?? 0).toBe(0);
          return;
        }
        expect({ u, points: m?.points, firstTouch: m?.firstTouch?.channel }).toEqual({ u, points: expectedPoints.get(u), firstTouch: firstWin.get(u) });
      });

      // Counters: `last` credits each scan to its own batch's channel, `first` to the person's first channel.
      const redemptions = [...winnerOf.keys()].length;
      for (const b of batches) {
        expect({ channel: b.channel, last: await counterSum(b.channel, 'last'), first: await counterSum(b.channel, 'first') }).toEqual({
          channel: b.channel,
          last: lastChannel.get(b.channel) ?? 0,
          first: firstChannel.get(b.channel) ?? 0,
        });
      }
      expect([...lastChannel.values()].reduce((a, b) => a + b, 0)).toBe(redemptions);
      expect([...firstChannel.values()].reduce((a, b) => a + b, 0)).toBe(redemptions);
    });
  }, 120_000);
});
