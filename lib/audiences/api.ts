/**
 * Audiences and campaigns as the admin API serves them (functions/audiences.ts;
 * docs/design.md#audiences):
 *
 *   createAudience     the validated filter, saved (400 with the reasons otherwise)
 *   audienceCount      an estimate now, from a bounded sample of the segments of a parallel scan
 *                      (exact when the sample covers every segment), and the exact count of the
 *                      latest count run, a paged job through the engagement queue (started when
 *                      none ran in the last COUNT_FRESH_MS, or on `refresh`)
 *   membersCsvPage     one page of the audience's members as CSV (at most CSV_MAX_SCANS scans of
 *                      CSV_SCAN_LIMIT items, far under Lambda's 6 MB response) and the cursor of
 *                      the next page (`x-next-cursor`, absent on the last page)
 *   createCampaign     the campaign and the outbox rows of its first pages in one transaction
 *   campaignReport     planned from the campaign's count; sent, suppressed by reason, deferred,
 *                      failed, unknown and pending from the send records of its messages (one
 *                      record per message, so each message counts once); erased: planned members
 *                      whose campaign member record is gone (erasure, retention); lift from lift.ts
 */
import * as z from 'zod';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { drainOutbox } from '../engagement/outbox.ts';
import { csvText } from '../csv.ts';
import { newId } from '../ids.ts';
import type { StoredMember } from '../members/record.ts';
import type { ApplyDeps } from '../port.ts';
import { isPathId } from '../store/keys.ts';
import { audiences, campaigns, CAMPAIGN_MEMBER_SHARDS, type StoredAudience, type StoredCampaign } from '../store/entities/audience.ts';
import { isProfileCursor, members, type ProfileCursor } from '../store/entities/member.ts';
import { AudienceFilterSchema, parseAudience, type AudienceFilter } from './filter.ts';
import { filterContext } from './context.ts';
import { campaignRuleId, firstPages, JOB_SEGMENTS, matchingOf } from './pages.ts';
import { campaignLift, type CampaignLift } from './lift.ts';

/** Segments of the estimate's scan and how much of it one request may read. */
export const ESTIMATE_SEGMENTS = 64;
export const ESTIMATE_MAX_ITEMS = 20_000;
const ESTIMATE_SCAN_LIMIT = 1_000;
/** An exact count younger than this is reported as it is; an older one starts a new run. */
export const COUNT_FRESH_MS = 15 * 60_000;
export const CSV_SCAN_LIMIT = 1_000;
export const CSV_MAX_SCANS = 5;

export interface AudienceView {
  id: string;
  name: string;
  filter: AudienceFilter;
  createdAt: string;
}

const viewOf = (a: StoredAudience): AudienceView => ({ id: a.audienceId, name: a.name, filter: AudienceFilterSchema.parse(a.filter), createdAt: new Date(a.createdAt).toISOString() });

export async function createAudience(deps: ApplyDeps, body: unknown): Promise<AudienceView> {
  const def = parseAudience(body);
  const a: StoredAudience = { audienceId: newId(deps.now()), name: def.name, filter: def.filter, createdAt: deps.now() };
  await audiences.create(deps, a);
  return viewOf(a);
}

async function audienceOr404(deps: ApplyDeps, id: string): Promise<StoredAudience> {
  const a = isPathId(id) ? await audiences.get(deps, id) : undefined;
  if (!a) throw new NotFoundError(`no audience ${id}`);
  return a;
}

export async function getAudience(deps: ApplyDeps, id: string): Promise<AudienceView> {
  return viewOf(await audienceOr404(deps, id));
}

/** Scales the matches of the segments read to all segments (exact when all were read). */
export function scaleEstimate(matched: number, segmentsRead: number, segments: number, partial?: { matched: number }): number {
  if (segmentsRead >= segments) return matched;
  if (segmentsRead === 0) return partial ? partial.matched * segments : 0;
  return Math.round((matched * segments) / segmentsRead);
}

/** The estimate: whole segments of a parallel scan, read in order within the request's budget. */
export async function estimateAudience(deps: ApplyDeps, filter: AudienceFilter): Promise<{ estimate: number; segmentsRead: number; segments: number }> {
  const ctx = await filterContext(deps);
  let matchedWhole = 0;
  let segmentsRead = 0;
  let read = 0;
  let partial = 0;
  for (let segment = 0; segment < ESTIMATE_SEGMENTS && read < ESTIMATE_MAX_ITEMS; segment++) {
    let cursor: ProfileCursor | undefined;
    let inSegment = 0;
    let complete = false;
    while (read < ESTIMATE_MAX_ITEMS) {
      const page = await members.scanPage<StoredMember>(deps, { limit: ESTIMATE_SCAN_LIMIT, segment: { index: segment, total: ESTIMATE_SEGMENTS }, ...(cursor ? { cursor } : {}) });
      read += page.scanned;
      inSegment += (await matchingOf(page.profiles, filter, ctx)).length;
      if (!page.cursor) {
        complete = true;
        break;
      }
      cursor = page.cursor;
    }
    if (!complete) {
      partial = inSegment;
      break;
    }
    matchedWhole += inSegment;
    segmentsRead++;
  }
  return { estimate: scaleEstimate(matchedWhole, segmentsRead, ESTIMATE_SEGMENTS, { matched: partial }), segmentsRead, segments: ESTIMATE_SEGMENTS };
}

export interface CountView {
  audienceId: string;
  estimate: number;
  exact: number | null;
  /** `scan`: the estimate read every segment (it is exact); `sample:<read>/<segments>`: scaled from that many; then `+job` when `exact` comes from a finished count run. */
  method: string;
  /** When the exact count finished (ISO), else when the estimate was made. */
  countedAt: string;
  /** The count run in progress or last finished, with its progress. */
  run: { id: string; segmentsDone: number; segments: number; startedAt: string } | null;
}

/** `pageSize`: items each page of a new count run evaluates (default pages.ts PAGE_SCAN_LIMIT). */
export async function audienceCount(deps: ApplyDeps, id: string, o: { refresh?: boolean; pageSize?: number } = {}): Promise<CountView> {
  const a = await audienceOr404(deps, id);
  const filter = AudienceFilterSchema.parse(a.filter);
  const now = deps.now();
  let run = a.countRun ? await audiences.count(deps, a.audienceId, a.countRun) : undefined;
  const finished = run !== undefined && run.segmentsDone >= run.segments;
  if (!run || o.refresh === true || (finished && now - run.updatedAt > COUNT_FRESH_MS)) {
    const runId = newId(now);
    const pages = firstPages('count', a.audienceId, runId, now, o.pageSize !== undefined ? { pageSize: o.pageSize } : {});
    await audiences.startCount(deps, a.audienceId, runId, JOB_SEGMENTS, now, pages);
    await drainOutbox(pages.map((p) => p.messageId), deps);
    run = { run: runId, segments: JOB_SEGMENTS, segmentsDone: 0, matched: 0, startedAt: now, updatedAt: now };
  }
  const est = await estimateAudience(deps, filter);
  const done = run.segmentsDone >= run.segments;
  const sampled = est.segmentsRead >= est.segments ? 'scan' : `sample:${est.segmentsRead}/${est.segments}`;
  return {
    audienceId: a.audienceId,
    estimate: est.estimate,
    exact: done ? run.matched : null,
    method: done ? `${sampled}+job` : sampled,
    countedAt: new Date(done ? run.updatedAt : now).toISOString(),
    run: { id: run.run, segmentsDone: run.segmentsDone, segments: run.segments, startedAt: new Date(run.startedAt).toISOString() },
  };
}

/** The CSV columns of members.csv (no phone, name or address: ids and segments only). */
export const MEMBER_CSV_COLUMNS = ['memberId', 'status', 'tier', 'lifecycle', 'rfm', 'firstTouchChannel', 'firstTouchAt', 'points', 'lastInteractionAt'] as const;

function csvLine(m: StoredMember): string {
  const iso = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString());
  const rfm = m.rfm ? `${m.rfm.r}${m.rfm.f}${m.rfm.m}` : '';
  return [csvText(m.memberId), csvText(m.status), csvText(m.tier), csvText(m.lifecycle), rfm, csvText(m.firstTouch.channel), iso(m.firstTouch.at), String(m.points), iso(m.lastInteractionAt)].join(',');
}

export const encodeCursor = (c: ProfileCursor): string => Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');

export function decodeCursor(s: string | undefined): ProfileCursor | undefined {
  if (s === undefined || s === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isProfileCursor(parsed)) throw new BadRequestError('cursor is not one this API handed out', undefined, 'bad_cursor');
  return parsed;
}

/** One page of members.csv: the header line, the page's members, and the cursor of the next page. */
export async function membersCsvPage(deps: ApplyDeps, id: string, cursorParam: string | undefined, o: { scanLimit?: number } = {}): Promise<{ csv: string; next?: string; rows: number }> {
  const a = await audienceOr404(deps, id);
  const filter = AudienceFilterSchema.parse(a.filter);
  const ctx = await filterContext(deps);
  let cursor = decodeCursor(cursorParam);
  const lines = [MEMBER_CSV_COLUMNS.join(',')];
  for (let scans = 0; scans < CSV_MAX_SCANS; scans++) {
    const page = await members.scanPage<StoredMember>(deps, { limit: o.scanLimit ?? CSV_SCAN_LIMIT, ...(cursor ? { cursor } : {}) });
    for (const m of await matchingOf(page.profiles, filter, ctx)) lines.push(csvLine(m));
    cursor = page.cursor;
    if (!cursor) break;
  }
  return { csv: `${lines.join('\r\n')}\r\n`, rows: lines.length - 1, ...(cursor ? { next: encodeCursor(cursor) } : {}) };
}

/** What a campaign sends: a template, a subscription template or a text (customer-service) message, with their fields. */
const scalar = z.union([z.string().max(1024), z.number().finite(), z.boolean()]);
export const CampaignMessageSchema = z
  .record(z.string().min(1).max(64), z.union([scalar, z.record(z.string().max(64), scalar)]))
  .refine((m) => ['templateId', 'subscribeTemplateId', 'text'].some((k) => typeof m[k] === 'string' && (m[k] as string).trim() !== ''), { message: 'a message needs templateId, subscribeTemplateId or text' })
  .refine((m) => JSON.stringify(m).length <= 4096, { message: 'a message is at most 4 KB' });

export const CreateCampaignSchema = z.strictObject({ name: z.string().trim().min(1).max(128), audienceId: z.string().min(1).max(64), message: CampaignMessageSchema });

/** `pageSize`: items each page of the campaign's planning evaluates (default pages.ts PAGE_SCAN_LIMIT). */
export async function createCampaign(deps: ApplyDeps, body: unknown, o: { pageSize?: number } = {}): Promise<{ id: string; status: string }> {
  const r = CreateCampaignSchema.safeParse(body);
  if (!r.success) throw new BadRequestError('invalid campaign', r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`), 'invalid_campaign');
  const a = isPathId(r.data.audienceId) ? await audiences.get(deps, r.data.audienceId) : undefined;
  if (!a) throw new BadRequestError(`no audience ${r.data.audienceId}`, undefined, 'unknown_audience');
  const now = deps.now();
  const c: StoredCampaign = { campaignId: newId(now), name: r.data.name, audienceId: a.audienceId, filter: a.filter, message: r.data.message, segments: JOB_SEGMENTS, segmentsDone: 0, planned: 0, createdAt: now };
  const pages = firstPages('campaign', c.campaignId, c.campaignId, now, o.pageSize !== undefined ? { pageSize: o.pageSize } : {});
  await campaigns.create(deps, c, pages);
  // The outbox sweep enqueues what this cannot (the rows were committed with the campaign).
  await drainOutbox(pages.map((p) => p.messageId), deps).catch(() => undefined);
  return { id: c.campaignId, status: 'planning' };
}

export interface CampaignReport {
  id: string;
  name: string;
  status: 'planning' | 'sending' | 'done';
  audienceId: string;
  ruleId: string;
  planned: number;
  sent: number;
  suppressed: Record<string, number>;
  deferred: number;
  failed: number;
  /** Messages that may or may not have gone out (never sent again; counted by the caps). */
  unknown: number;
  /** Planned messages without a final outcome yet (queued, in flight, being retried). */
  pending: number;
  /** Planned members whose campaign records are gone since: erased, or expired after HUB_MESSAGE_RETENTION_DAYS. */
  erased: number;
  createdAt: string;
  lift: CampaignLift | null;
}

/** Tallies the send states of the `members` planned members still on record into the report's numbers. */
export function tallySends(members: number, states: readonly { status: string; reason?: string }[]): Pick<CampaignReport, 'sent' | 'suppressed' | 'deferred' | 'failed' | 'unknown' | 'pending'> {
  const t = { sent: 0, suppressed: {} as Record<string, number>, deferred: 0, failed: 0, unknown: 0, pending: 0 };
  for (const s of states) {
    if (s.status === 'sent') t.sent++;
    else if (s.status === 'suppressed') t.suppressed[s.reason ?? 'unknown'] = (t.suppressed[s.reason ?? 'unknown'] ?? 0) + 1;
    else if (s.status === 'deferred') t.deferred++;
    else if (s.status === 'failed') t.failed++;
    else if (s.status === 'unknown') t.unknown++;
  }
  const settled = t.sent + Object.values(t.suppressed).reduce((x, y) => x + y, 0) + t.deferred + t.failed + t.unknown;
  t.pending = Math.max(0, members - settled);
  return t;
}

export async function campaignReport(deps: ApplyDeps, id: string): Promise<CampaignReport> {
  const c = isPathId(id) ? await campaigns.get(deps, id) : undefined;
  if (!c) throw new NotFoundError(`no campaign ${id}`);
  const states: { status: string; reason?: string }[] = [];
  let onRecord = 0;
  for (let shard = 0; shard < CAMPAIGN_MEMBER_SHARDS; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await campaigns.memberPage(deps, c.campaignId, shard, start);
      onRecord += page.messageIds.length;
      states.push(...(await campaigns.sendStates(deps, page.messageIds)));
      start = page.lastKey;
    } while (start);
  }
  const t = tallySends(onRecord, states);
  const status = c.segmentsDone < c.segments ? 'planning' : t.pending + t.deferred > 0 ? 'sending' : 'done';
  const ruleId = campaignRuleId(c.campaignId);
  return { id: c.campaignId, name: c.name, status, audienceId: c.audienceId, ruleId, planned: c.planned, ...t, erased: Math.max(0, c.planned - onRecord), createdAt: new Date(c.createdAt).toISOString(), lift: await campaignLift(deps, ruleId, c.createdAt) };
}
