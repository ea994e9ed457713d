/**
 * Paged jobs over the member profiles: the exact count of an audience and the planning of a
 * campaign (docs/design.md#audiences). No invocation reads the whole table: a job is a parallel
 * scan of `JOB_SEGMENTS` segments, and each page of a segment (at most `PAGE_SCAN_LIMIT` items
 * evaluated) is one engagement-queue row `audience_page` that the engagement sender hands here.
 * A page:
 *   1. scans its page of its segment and evaluates the filter on the profiles in it;
 *   2. campaign: plans each matching member once (campaign member marker + outbox row + the
 *      campaign's `planned`, one transaction per member: lib/store/entities/audience.ts) and
 *      drains those rows to the engagement queue, where the sender applies caps, quiet hours,
 *      windows, consent and the holdout to each like any other marketing message;
 *   3. records the page with its tally and the outbox row of the next page in one transaction,
 *      so a page counts once and its successor is planned once, whatever SQS redelivers;
 *   4. drains the next page's row (the outbox sweep does it if this invocation cannot).
 * A redelivered page finds its page record, re-drains what may still be pending and writes
 * nothing else; a member planned before is never planned again, and the sender sends each
 * message id at most once.
 */
import type { SQSRecord } from 'aws-lambda';
import { drainOutbox } from '../engagement/outbox.ts';
import { retryDelaySeconds } from '../engagement/guardrails.ts';
import type { SendRecordOutcome, SenderRuntime } from '../engagement/send/batch.ts';
import { logger } from '../log.ts';
import { AUDIENCE_PAGE_RULE, type OutboxRow } from '../events/messages.ts';
import { stableId } from '../ids.ts';
import { sendingAddress } from '../members/model.ts';
import type { StoredMember } from '../members/record.ts';
import type { ApplyDeps } from '../port.ts';
import { audiences, campaigns, jobExists, jobPages, type JobKind, type PageRef } from '../store/entities/audience.ts';
import { isProfileCursor, members, type ProfileCursor } from '../store/entities/member.ts';
import { AudienceFilterSchema, matches, type AudienceFilter, type FilterContext } from './filter.ts';
import { filterContext } from './context.ts';

/** Segments of a job's parallel scan (pages of different segments run concurrently). */
export const JOB_SEGMENTS = 16;
/** Items a page evaluates (DynamoDB `Limit`; every item type counts, so a page holds fewer profiles). */
export const PAGE_SCAN_LIMIT = 500;

/** The body of an `audience_page` row. */
export interface PageJob {
  kind: JobKind;
  id: string;
  run: string;
  segment: number;
  segments: number;
  /** Items a page evaluates (default PAGE_SCAN_LIMIT). */
  pageSize?: number;
  cursor?: ProfileCursor;
}

/** The engagement-queue row of one page (its message id is stable: planning it twice plans one row). */
export function pageRow(job: PageJob, at: number): OutboxRow {
  const cursor = job.cursor ? JSON.stringify(job.cursor) : '';
  return {
    messageId: stableId(AUDIENCE_PAGE_RULE, job.kind, job.id, job.run, String(job.segment), cursor),
    memberId: `${job.kind}:${job.id}`,
    ruleId: AUDIENCE_PAGE_RULE,
    step: `${job.run}:${job.segment}`,
    class: 'transactional',
    destination: 'member',
    payload: { ...job },
    triggeredAt: at,
    createdAt: at,
  };
}

/** The first page of every segment of a job. */
export function firstPages(kind: JobKind, id: string, run: string, at: number, o: { segments?: number; pageSize?: number } = {}): OutboxRow[] {
  const segments = o.segments ?? JOB_SEGMENTS;
  return Array.from({ length: segments }, (_, segment) => pageRow({ kind, id, run, segment, segments, ...(o.pageSize !== undefined ? { pageSize: o.pageSize } : {}) }, at));
}

/** A page row's job; undefined for a payload that is not one (a malformed row is dropped). */
export function pageJobOf(row: Pick<OutboxRow, 'payload'>): PageJob | undefined {
  const p = row.payload;
  const kind = p.kind;
  if (kind !== 'count' && kind !== 'campaign') return undefined;
  if (typeof p.id !== 'string' || typeof p.run !== 'string') return undefined;
  const segments = Number(p.segments);
  const segment = Number(p.segment);
  if (!Number.isInteger(segments) || segments < 1 || segments > 1_000_000 || !Number.isInteger(segment) || segment < 0 || segment >= segments) return undefined;
  if (p.cursor !== undefined && !isProfileCursor(p.cursor)) return undefined;
  const pageSize = p.pageSize === undefined ? undefined : Number(p.pageSize);
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > PAGE_SCAN_LIMIT)) return undefined;
  return { kind, id: p.id, run: p.run, segment, segments, ...(pageSize !== undefined ? { pageSize } : {}), ...(p.cursor !== undefined ? { cursor: p.cursor as ProfileCursor } : {}) };
}

/** The message a campaign sends one member, as the engagement sender takes it (class marketing). */
export function campaignRow(c: { campaignId: string; message: Record<string, unknown>; createdAt: number }, m: Pick<StoredMember, 'memberId' | 'apps' | 'wechat'>, at: number): OutboxRow {
  const ruleId = campaignRuleId(c.campaignId);
  const address = sendingAddress(m);
  return {
    messageId: stableId(m.memberId, ruleId, c.campaignId),
    memberId: m.memberId,
    ruleId,
    step: c.campaignId,
    class: 'marketing',
    destination: 'member',
    payload: { ...c.message },
    ...(address ? { appId: address.appId, openid: address.openid } : {}),
    triggeredAt: c.createdAt,
    createdAt: at,
  };
}

/** The rule id a campaign's messages carry (send records, suppressions, lift). */
export const campaignRuleId = (campaignId: string): string => `campaign:${campaignId}`;

export type PageOutcome = 'counted' | 'planned' | 'duplicate' | 'gone';

/** The job's filter and, for a campaign, what it sends. */
async function jobOf(deps: ApplyDeps, job: PageJob): Promise<{ filter: AudienceFilter; campaign?: { campaignId: string; message: Record<string, unknown>; createdAt: number } } | undefined> {
  if (!(await jobExists(deps, job.kind, job.id, job.run))) return undefined;
  if (job.kind === 'campaign') {
    const c = await campaigns.get(deps, job.id);
    return c && { filter: AudienceFilterSchema.parse(c.filter), campaign: c };
  }
  const a = await audiences.get(deps, job.id);
  return a && { filter: AudienceFilterSchema.parse(a.filter) };
}

/** The members of one scanned page that belong to the audience. */
export async function matchingOf(profiles: readonly StoredMember[], filter: AudienceFilter, ctx: FilterContext): Promise<StoredMember[]> {
  const out: StoredMember[] = [];
  for (const p of profiles) if (await matches(filter, p, ctx)) out.push(p);
  return out;
}

/** Runs one page of a job (see the header). Throws on storage or queue faults: the row is retried. */
export async function runPage(job: PageJob, deps: ApplyDeps): Promise<PageOutcome> {
  const def = await jobOf(deps, job);
  if (!def) return 'gone';
  const ref: PageRef = { kind: job.kind, id: job.id, run: job.run, segment: job.segment, ...(job.cursor ? { cursor: JSON.stringify(job.cursor) } : {}) };
  const page = await members.scanPage<StoredMember>(deps, { limit: job.pageSize ?? PAGE_SCAN_LIMIT, segment: { index: job.segment, total: job.segments }, ...(job.cursor ? { cursor: job.cursor } : {}) });
  const now = deps.now();
  const next = page.cursor ? pageRow({ ...job, cursor: page.cursor }, now) : undefined;
  if (await jobPages.done(deps, ref)) {
    if (next) await drainOutbox([next.messageId], deps);
    return 'duplicate';
  }
  const matched = await matchingOf(page.profiles, def.filter, await filterContext(deps));
  if (def.campaign) {
    const rows = matched.map((m) => campaignRow(def.campaign!, m, now));
    for (const row of rows) await campaigns.planMember(deps, row, job.id, deps.cfg.HUB_MESSAGE_RETENTION_DAYS);
    await drainOutbox(rows.map((r) => r.messageId), deps);
  }
  const recorded = await jobPages.record(deps, ref, { matched: matched.length, segmentDone: !page.cursor }, now, next);
  if (next) await drainOutbox([next.messageId], deps);
  if (!recorded) return 'duplicate';
  return def.campaign ? 'planned' : 'counted';
}

/** The engagement sender's handler of an `audience_page` row: done, or a retry with the sender's backoff. */
export async function pageRecord(row: OutboxRow, rt: SenderRuntime & ApplyDeps, record: SQSRecord): Promise<SendRecordOutcome> {
  const job = pageJobOf(row);
  if (!job) {
    logger.error('audience page row without a valid job dropped', { messageId: row.messageId });
    return { kind: 'done', outcome: { status: 'lookup', result: 'rejected' } };
  }
  try {
    const result = await runPage(job, rt);
    logger.info('audience page', { kind: job.kind, id: job.id, run: job.run, segment: job.segment, result });
    return { kind: 'done', outcome: { status: 'lookup', result } };
  } catch (err) {
    logger.error('audience page failed', { kind: job.kind, id: job.id, segment: job.segment, error: (err as Error).message });
    return { kind: 'retry', delaySeconds: retryDelaySeconds(Number(record.attributes?.ApproximateReceiveCount ?? '1'), rt.cfg.policy), reason: 'page_error' };
  }
}
