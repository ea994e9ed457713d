/**
 * WeChat ingest: per safe-mode push, verify msg_signature + decrypt + parse + normalise.
 *
 *   ours     lib/sources/wechat/inbound.ts openPush (fast-xml-parser, no entities, strings only)
 *   classic  the node-webot stack: xml2js parseString for the envelope, wechat-crypto for
 *            msg_signature and decrypt (plus the appid check), xml2js again for the inner
 *            message, flattened the way node-webot's middleware does, then the SAME
 *            normaliseWechat call ours makes (so the normalisation work is identical and the
 *            comparison isolates verify / decrypt / parse)
 *
 * Same inputs for both: a few hundred distinct pushes (follows with and without scene, scans,
 * unfollows, text, clicks, template receipts) sealed as WeChat sends them to a safe-mode account
 * (test/support/wechat-client.ts signedXml), each with its own nonce and msg_signature, dated
 * within the last minute (fresh); both start from the raw body Buffer. Before timing,
 * every input goes through both and the resulting events must be equal (FromUserName, Event and
 * the whole normalised event), which proves equal work.
 *
 * Timing: warm-up, then alternating blocks (ours, classic, ours, ...) so background load hits
 * both alike. Reported: wall msgs/s, msgs per CPU-second of this process ("per core": the loop is
 * single-threaded, so one core's throughput; robust against other processes on the machine),
 * and the ratio.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import WXBizMsgCrypt from 'wechat-crypto';
import { parseString } from 'xml2js';
import { openPush } from '../lib/sources/wechat/inbound.ts';
import { normaliseWechat } from '../lib/sources/wechat/normalise.ts';
import { LOCAL_DEFAULTS } from '../lib/config/index.ts';
import type { HubEvent } from '../lib/events/hub-event.ts';
import { signedXml } from '../test/support/wechat-client.ts';
import { fmt, machine, round, type BenchResult } from './lib/common.ts';

const APP_ID = LOCAL_DEFAULTS.WECHAT_APP_ID;
const TOKEN = LOCAL_DEFAULTS.WECHAT_TOKEN;
const AES_KEY = LOCAL_DEFAULTS.WECHAT_AES_KEY;

export interface IngestOptions {
  messages?: number;
  /** Wall time spent measuring both implementations together, ms. */
  measureMs?: number;
  warmupMs?: number;
}

interface Push {
  query: Record<string, string>;
  body: Buffer;
}

const cdata = (name: string, v: string) => `<${name}><![CDATA[${v}]]></${name}>`;

/** The inner XML of push i (a realistic mix of what an official account receives). */
function innerXml(i: number, createTime: number): string {
  const from = `oBench${String(i).padStart(5, '0')}_${randomBytes(6).toString('hex')}`;
  const head = cdata('ToUserName', 'gh_bench') + cdata('FromUserName', from) + `<CreateTime>${createTime}</CreateTime>`;
  switch (i % 8) {
    case 0:
      return `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', 'subscribe')}${cdata('EventKey', `qrscene_store_${i % 50}`)}${cdata('Ticket', `gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2t${i}`)}</xml>`;
    case 1:
      return `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', 'subscribe')}${cdata('EventKey', '')}</xml>`;
    case 2:
      return `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', 'SCAN')}${cdata('EventKey', `store_${i % 50}`)}${cdata('Ticket', `gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2t${i}`)}</xml>`;
    case 3:
      return `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', 'unsubscribe')}${cdata('EventKey', '')}</xml>`;
    case 4:
      return `<xml>${head}${cdata('MsgType', 'text')}${cdata('Content', `你好，我想查询第${i}号订单的积分 hello`)}<MsgId>${(23_000_000_000_000_000n + BigInt(i)).toString()}</MsgId></xml>`;
    case 5:
      return `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', 'CLICK')}${cdata('EventKey', `MENU_MEMBER_${i % 7}`)}</xml>`;
    case 6:
      return `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', 'TEMPLATESENDJOBFINISH')}<MsgID>${(2_000_000_000_000_000_000n + BigInt(i)).toString()}</MsgID>${cdata('Status', 'success')}</xml>`;
    default:
      return `<xml>${head}${cdata('MsgType', 'image')}${cdata('PicUrl', `http://mmbiz.qpic.cn/mmbiz_jpg/bench${i}/0`)}<MsgId>${(24_000_000_000_000_000n + BigInt(i)).toString()}</MsgId>${cdata('MediaId', `media_${i}`)}</xml>`;
  }
}

/**
 * `n` pushes as WeChat sends them to a safe-mode account (test/support/wechat-client.ts
 * signedXml: sealed, with msg_signature), dated within the last minute: the hub accepts a push
 * only within its freshness window (HUB_WEBHOOK_MAX_SKEW_SECONDS, 300 s by default), and a run
 * lasts well under that.
 */
export function buildPushes(n: number): Push[] {
  const out: Push[] = [];
  const t0 = Math.floor(Date.now() / 1000);
  const account = { appId: APP_ID, token: TOKEN, aesKey: AES_KEY };
  for (let i = 0; i < n; i++) {
    const createTime = t0 - (i % 60);
    const nonce = String(1_000_000_000 + ((i * 7919) % 900_000_000));
    const req = signedXml(innerXml(i, createTime), `o${i}`, account, 'safe', nonce, String(createTime), 'gh_bench');
    const query = Object.fromEntries(new URL(req.path, 'http://bench.invalid').searchParams);
    out.push({ query, body: Buffer.from(req.body, 'utf8') });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The classic stack

type Flat = Record<string, string>;

/** xml2js's arrays-of-one flattened to strings, as node-webot's wechat middleware does. */
function flatten(node: Record<string, unknown>): Flat {
  const out: Flat = {};
  for (const [key, value] of Object.entries(node)) {
    if (!Array.isArray(value) || value.length === 0) continue;
    const first = value[0] as unknown;
    if (value.length === 1 && (typeof first === 'string' || first === undefined || first === null)) out[key] = String(first ?? '').trim();
    else if (value.length === 1 && typeof first === 'object') out[key] = JSON.stringify(first);
  }
  return out;
}

/** xml2js parseString is synchronous with its default options; this reads the result out. */
function xml2jsSync(xml: string): Record<string, unknown> {
  let result: unknown;
  let error: Error | null = null;
  let called = false;
  parseString(xml, { trim: true }, (err, res) => {
    called = true;
    error = err;
    result = res;
  });
  if (!called) throw new Error('xml2js answered asynchronously');
  if (error) throw error;
  const root = (result as { xml?: unknown } | null)?.xml;
  if (!root || typeof root !== 'object') throw new Error('no <xml> root');
  return root as Record<string, unknown>;
}

const cryptor = new WXBizMsgCrypt(TOKEN, AES_KEY, APP_ID);

export function classicOpen(push: Push): HubEvent {
  const text = push.body.toString('utf8');
  const envelope = flatten(xml2jsSync(text));
  const encrypted = envelope.Encrypt;
  if (!encrypted) throw new Error('no Encrypt');
  if (cryptor.getSignature(push.query.timestamp!, push.query.nonce!, encrypted) !== push.query.msg_signature) {
    throw new Error('msg_signature does not verify');
  }
  const { message, id } = cryptor.decrypt(encrypted);
  if (id !== APP_ID) throw new Error('appid mismatch');
  const inner = flatten(xml2jsSync(message));
  return normaliseWechat(inner, APP_ID);
}

export function oursOpen(push: Push): HubEvent {
  return openPush({ query: push.query, body: push.body, appId: APP_ID, token: TOKEN, aesKey: AES_KEY }).event;
}

// ---------------------------------------------------------------------------------------------

interface Block {
  wallNs: bigint;
  cpuUs: number;
  msgs: number;
}

function runBlock(fn: (p: Push) => HubEvent, pushes: Push[], rounds: number): Block {
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const p of pushes) sink += fn(p).eventId.length;
  }
  const wallNs = process.hrtime.bigint() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error('no work done');
  return { wallNs, cpuUs: cpu.user + cpu.system, msgs: rounds * pushes.length };
}

export async function run(opts: IngestOptions = {}): Promise<BenchResult> {
  const m = machine();
  const started = Date.now();
  const n = opts.messages ?? 400;
  const measureMs = opts.measureMs ?? 12_000;
  const warmupMs = opts.warmupMs ?? 2_000;
  const pushes = buildPushes(n);

  // Equal work: both must produce the same events from the same inputs.
  let checked = 0;
  for (const p of pushes) {
    const a = oursOpen(p);
    const b = classicOpen(p);
    const from = (e: HubEvent) => ('openid' in e ? e.openid : undefined);
    if (from(a) !== from(b) || a.type !== b.type || !isDeepStrictEqual(a, b)) {
      throw new Error(`ours and classic disagree on push ${checked}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    checked++;
  }

  // Warm-up both.
  const warmEnd = Date.now() + warmupMs;
  while (Date.now() < warmEnd) {
    runBlock(oursOpen, pushes, 1);
    runBlock(classicOpen, pushes, 1);
  }

  // The shared normalisation on its own (pre-parsed messages), to split the figures.
  const parsed = pushes.map((p) => openPush({ query: p.query, body: p.body, appId: APP_ID, token: TOKEN, aesKey: AES_KEY }).message);
  const normaliseOnly = (() => {
    let sink = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const reps = 20;
    for (let r = 0; r < reps; r++) for (const msg of parsed) sink += normaliseWechat(msg, APP_ID).eventId.length;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (!sink) throw new Error('no work');
    return { usPerMsgCpu: ((cpu.user + cpu.system) / (reps * parsed.length)), usPerMsgWall: (wall * 1e6) / (reps * parsed.length) };
  })();

  // Alternating blocks of ~250 ms each until the measuring time is spent.
  const probe = runBlock(classicOpen, pushes, 1);
  const rounds = Math.max(1, Math.round(250e6 / Number(probe.wallNs)));
  const totals = { ours: { wallNs: 0n, cpuUs: 0, msgs: 0, blocks: 0 }, classic: { wallNs: 0n, cpuUs: 0, msgs: 0, blocks: 0 } };
  const end = Date.now() + measureMs;
  while (Date.now() < end) {
    for (const [name, fn] of [['ours', oursOpen], ['classic', classicOpen]] as const) {
      const b = runBlock(fn, pushes, rounds);
      const t = totals[name];
      t.wallNs += b.wallNs;
      t.cpuUs += b.cpuUs;
      t.msgs += b.msgs;
      t.blocks++;
    }
    // Let timers (and other work of this process) run between blocks.
    await new Promise((r) => setImmediate(r));
  }

  const rate = (t: { wallNs: bigint; msgs: number }) => t.msgs / (Number(t.wallNs) / 1e9);
  const cpuRate = (t: { cpuUs: number; msgs: number }) => t.msgs / (t.cpuUs / 1e6);
  const ours = { msgsPerSec: round(rate(totals.ours), 0), msgsPerCpuSec: round(cpuRate(totals.ours), 0), usPerMsg: round(1e6 / rate(totals.ours), 2), msgs: totals.ours.msgs, blocks: totals.ours.blocks };
  const classic = {
    msgsPerSec: round(rate(totals.classic), 0),
    msgsPerCpuSec: round(cpuRate(totals.classic), 0),
    usPerMsg: round(1e6 / rate(totals.classic), 2),
    msgs: totals.classic.msgs,
    blocks: totals.classic.blocks,
  };
  const ratio = round(ours.msgsPerSec / classic.msgsPerSec, 2);
  const cpuRatio = round(ours.msgsPerCpuSec / classic.msgsPerCpuSec, 2);
  // CPU µs per message without the shared normalisation: verify + decrypt + parse alone.
  const oursCore = 1e6 / ours.msgsPerCpuSec - normaliseOnly.usPerMsgCpu;
  const classicCore = 1e6 / classic.msgsPerCpuSec - normaliseOnly.usPerMsgCpu;
  const coreRatio = round(classicCore / oursCore, 2);
  return {
    name: 'ingest',
    title: 'WeChat ingest (safe mode: verify + decrypt + parse + normalise)',
    machine: m,
    durationMs: Date.now() - started,
    loadAvgAtEnd: machine().loadAvgAtStart,
    iterations: { distinctMessages: n, roundsPerBlock: rounds, oursMessages: ours.msgs, classicMessages: classic.msgs, equalityChecked: checked },
    numbers: {
      ours,
      classic,
      ratio,
      cpuRatio,
      normaliseOnlyCpuUsPerMsg: round(normaliseOnly.usPerMsgCpu, 2),
      verifyDecryptParseCpuUsPerMsg: { ours: round(oursCore, 2), classic: round(classicCore, 2), ratio: coreRatio },
      cores: m.cpuCount,
      oursMachineEstimateMsgsPerSec: ours.msgsPerCpuSec * m.cpuCount,
    },
    summary: [
      ['ours (openPush) msgs/s', fmt(ours.msgsPerSec)],
      ['classic (wechat-crypto + xml2js) msgs/s', fmt(classic.msgsPerSec)],
      ['ratio ours / classic (wall)', `${ratio}×`],
      ['ours msgs per CPU-second (per core)', fmt(ours.msgsPerCpuSec)],
      ['classic msgs per CPU-second (per core)', fmt(classic.msgsPerCpuSec)],
      ['ratio ours / classic (CPU)', `${cpuRatio}×`],
      ['shared normalise (zod) CPU µs/msg', fmt(normaliseOnly.usPerMsgCpu, 1)],
      ['verify+decrypt+parse CPU µs/msg ours / classic', `${fmt(oursCore, 1)} / ${fmt(classicCore, 1)} (${coreRatio}× faster)`],
    ],
    notes: [
      `${checked} distinct pushes checked equal (FromUserName, Event, whole HubEvent) before timing`,
      'classic path ends in the same normaliseWechat call as ours: the difference is verify + decrypt + parse',
    ],
  };
}
