/**
 * The archive end to end (lib/archive, lib/analytics): a simulated mixed run (WeChat follows and
 * scans with their scenes, registrations, code scans, Tmall/JD/Youzan orders) through the whole
 * hub in process, archived to files; then
 *   - the archive holds every request and event, no phone in clear;
 *   - a rebuild with the current normalisers into a fresh table reports no difference;
 *   - a rebuild with a changed scene rule names exactly the members who followed through that
 *     scene and exactly the two channels' counters;
 *   - the saved query "new fans by channel and hour" over the archive (DuckDB) equals the
 *     attribution API's newFans per channel;
 *   - replay of one archived event into the live table is a no-op.
 * Expected values come from the simulator's plan (what it sent), not from the code under test.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hubConfig } from '../support/env.ts';
import { useTestHub } from '../support/hub.ts';
import { createTable } from '../../local/emulators.ts';
import { BufferedArchive } from '../../lib/archive/archive.ts';
import { fileSink } from '../../lib/archive/file-sink.ts';
import { utcDay } from '../../lib/archive/streams.ts';
import { rebuild, type RebuildResult } from '../../lib/analytics/rebuild.ts';
import { reopenWechat } from '../../lib/analytics/reopen.ts';
import { openArchiveSql } from '../../lib/analytics/sql.ts';
import { replayEvent } from '../../lib/analytics/replay.ts';
import { readEvents, readRequests } from '../../lib/analytics/reader.ts';
import { normaliseWechat } from '../../lib/sources/wechat/normalise.ts';
import { fetchAttribution, planSimulation, simulate, type Plan, type SimulateResult } from '../../lib/simulate/index.ts';

const hub = useTestHub({ replaysHistory: true, queuePrefix: 'arc' });
const archiveDir = mkdtempSync(join(tmpdir(), 'hub-archive-test-'));
const SEED = 24;
const FANS = 120;
const DAYS = 4;
let run: SimulateResult;
let plan: Plan;
let range: { from: string; to: string };

beforeAll(async () => {
  hub.reconfigure({ archive: new BufferedArchive(fileSink(archiveDir)) });
  const started = Date.now();
  run = await simulate({ base: hub.url, fans: FANS, days: DAYS, seed: SEED, concurrency: 4 });
  await hub.runtime.archive.flush();
  plan = planSimulation({ fans: FANS, days: DAYS, seed: SEED, anchor: run.anchor, tz: hubConfig().HUB_TIMEZONE });
  range = { from: utcDay(started), to: utcDay(Date.now() + 86_400_000) };
}, 300_000);

/**
 * A mainland mobile number standing alone: 11 digits beginning 1[3-9], with neither a letter nor
 * a digit on either side (so a run inside a hex id, a 19-digit order id or a millisecond time is
 * not one).
 */
const MOBILE = /(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])/g;
function archiveText(): string {
  const out: string[] = [];
  for (const e of readdirSync(archiveDir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.push(readFileSync(join(e.parentPath, e.name), 'utf8'));
  return out.join('\n');
}

/** A fresh table for one rebuild. */
async function freshTable(name: string): Promise<{ db: typeof hub.aws.db; table: string }> {
  const table = `${hub.aws.table}-${name}`;
  await createTable(hub.aws.db, table);
  return { db: hub.aws.db, table };
}

const wechatIdentity = (openid: string) => `wechat_openid#${hubConfig().WECHAT_APP_ID}:${openid}`;

describe('the archive of a mixed run', () => {
  it('keeps every accepted request and every answered event, partitioned by source', async () => {
    expect(run.requests.failed).toBe(0);
    const sources = readdirSync(join(archiveDir, 'requests')).sort();
    expect(sources).toEqual(['source=jd', 'source=tmall', 'source=wechat', 'source=youzan']);
    const eventSources = readdirSync(join(archiveDir, 'events')).sort();
    expect(eventSources).toEqual(['source=codes', 'source=jd', 'source=members', 'source=tmall', 'source=wechat', 'source=youzan']);
    const events = await readEvents(archiveDir, range);
    const requests = await readRequests(archiveDir, range);
    // Every webhook event was answered, and came in an archived request (no TMC pull ran here).
    const fromRequests = new Set(requests.flatMap((r) => r.event_ids));
    expect(fromRequests.size).toBeGreaterThan(100);
    expect(requests.every((r) => r.outcome === 'answered')).toBe(true);
    const webhookEvents = new Set(events.filter((e) => ['wechat', 'tmall', 'jd', 'youzan'].includes(e.source)).map((e) => e.event_id));
    expect([...webhookEvents].sort()).toEqual([...fromRequests].sort());
    // The WeChat requests are the simulator's pushes, each its own request.
    const wechatPushes = plan.actions.filter((a) => a.kind === 'wechat').length;
    expect(requests.filter((r) => r.source === 'wechat').length).toBe(wechatPushes);
    // Code scans and registrations have no webhook request: their events are archived.
    const types = new Set(events.map((e) => e.type));
    expect(types.has('code.scan') && types.has('member.register')).toBe(true);
  });

  it('holds no phone number in clear', () => {
    const text = archiveText();
    const phones = plan.persons.map((p) => p.phone);
    expect(phones.length).toBeGreaterThan(0);
    for (const phone of phones) expect(text.includes(phone), phone).toBe(false);
    const standing = [...text.matchAll(MOBILE)].map((m) => text.slice(Math.max(0, m.index - 40), m.index + 51));
    expect(standing).toEqual([]);
  });
});

describe('rebuild', () => {
  let same: RebuildResult;
  let changed: RebuildResult;
  // The rule change: follows through `SCENE_FROM` are credited to `SCENE_TO`.
  const SCENE_FROM = 'store_sh_jingan';
  const SCENE_TO = 'poster_spring_launch';

  beforeAll(async () => {
    same = await rebuild({ archiveDir, range, live: { db: hub.aws.db, table: hub.aws.table }, target: await freshTable('same'), cfg: hubConfig() });
    changed = await rebuild({
      archiveDir,
      range,
      live: { db: hub.aws.db, table: hub.aws.table },
      target: await freshTable('changed'),
      cfg: hubConfig(),
      reopen: { wechat: reopenWechat((msg, appId) => normaliseWechat(msg.EventKey === `qrscene_${SCENE_FROM}` ? { ...msg, EventKey: `qrscene_${SCENE_TO}` } : msg, appId)) },
    });
  }, 300_000);

  it('with the current normalisers: every request normalises, and the tables do not differ', () => {
    expect(same.refused).toEqual([]);
    expect(same.requests).toBeGreaterThan(0);
    expect(same.report).toEqual({ members: [], orders: [], counters: [] });
  });

  it('with a changed scene rule: names exactly the members who followed through that scene, and those two channels', () => {
    const followedThrough = new Set(
      plan.actions
        .filter((a) => a.kind === 'wechat' && a.push.event === 'subscribe' && a.push.eventKey === `qrscene_${SCENE_FROM}`)
        .map((a) => wechatIdentity(plan.persons[a.person]!.openid!)),
    );
    expect(followedThrough.size).toBeGreaterThan(0);
    const named = new Set(changed.report.members.flatMap((m) => m.identities.filter((i) => i.startsWith('wechat_openid#'))));
    expect([...named].sort()).toEqual([...followedThrough].sort());
    expect(changed.report.members.every((m) => m.change === 'changed')).toBe(true);
    expect(changed.report.orders).toEqual([]);
    expect([...new Set(changed.report.counters.map((c) => c.channel))].sort()).toEqual([SCENE_TO, SCENE_FROM].sort());
    // The counters move from one channel to the other: every field's difference sums to zero.
    const net = new Map<string, number>();
    for (const c of changed.report.counters) for (const f of c.fields) net.set(`${c.model}#${c.day}#${f.field}`, (net.get(`${c.model}#${c.day}#${f.field}`) ?? 0) + Number(f.rebuilt) - Number(f.live));
    for (const [k, v] of net) expect(v, k).toBe(0);
  });
});

describe('npm run sql on the archive', () => {
  it('new fans by channel and hour add up to the attribution API’s newFans per channel', async () => {
    const sql = await openArchiveSql(archiveDir);
    const rows = await sql.query(readFileSync(new URL('../../queries/new-fans-by-channel-hour.sql', import.meta.url), 'utf8'));
    sql.close();
    const fromSql = new Map<string, number>();
    for (const r of rows) fromSql.set(String(r.channel), (fromSql.get(String(r.channel)) ?? 0) + Number(r.new_fans));
    // The test hub runs no schedules: fold the credit deltas as POST /_local/run/counter-fold would.
    await hub.runScheduled('counter-fold');
    const api = await fetchAttribution(hub.url, hubConfig().HUB_ADMIN_TOKEN, run.from, run.to);
    const fromApi = new Map(api.filter((r) => r.newFans > 0).map((r) => [r.channel, r.newFans]));
    expect(Object.fromEntries(fromSql)).toEqual(Object.fromEntries(fromApi));
    expect([...fromSql.values()].reduce((a, b) => a + b, 0)).toBe(FANS);
  });
});

describe('npm run replay', () => {
  it('replays an archived event into the live table as a no-op when it is already applied', async () => {
    const events = await readEvents(archiveDir, range);
    const follow = events.find((e) => e.type === 'wechat.follow' && e.status === 'applied')!;
    const scan = events.find((e) => e.type === 'code.scan' && e.status === 'applied')!;
    const a = await replayEvent(archiveDir, follow.event_id, hub.runtime);
    expect(a).toMatchObject({ from: 'request', result: { status: 'duplicate', eventId: follow.event_id, memberId: follow.member_id } });
    const b = await replayEvent(archiveDir, scan.event_id, hub.runtime);
    expect(b).toMatchObject({ from: 'archived event', result: { status: 'duplicate', eventId: scan.event_id } });
  });
});
