/**
 * WeChat user tags synced from hub segments (docs/design.md#wechat-user-tags,
 * docs/platforms.md#wechat-user-tags). A `tagSync` rule (lib/config/rules.ts) names a segment
 * (`tier:<tier>`, `lifecycle:<stage>`) and a WeChat tag id. When an event's transaction plans
 * engagement for a member the segment holds, one engagement-queue row per (rule, address) is
 * planned (`wechat_tag_sync`; its message id is stable, so the outbox plans it once per member
 * and tag). The engagement sender hands those rows here: `tags/members/batchtagging` with at most
 * 50 openids a call, calls of one app spaced by a minimum interval. Nothing is asked of WeChat
 * on the webhook path.
 */
import type { SQSRecord } from 'aws-lambda';
import type { RulesConfig } from '../config/rules.ts';
import { UpstreamApiError } from '../errors.ts';
import { TAG_SYNC_RULE, type OutboxRow, type PlannedMessage } from '../events/messages.ts';
import { logger } from '../log.ts';
import type { StoredMember } from '../members/record.ts';
import { TAGGING_MAX_OPENIDS, type WechatApi } from '../wechat/wire.ts';
import { retryDelaySeconds } from './guardrails.ts';
import type { SendRecordOutcome, SenderRuntime } from './send/batch.ts';

export type TagMember = Pick<StoredMember, 'memberId' | 'tier' | 'lifecycle' | 'wechat' | 'apps' | 'wechatTags'>;

/** The member's segments as `tagSync` names them. */
export function segmentsOf(m: Pick<StoredMember, 'tier' | 'lifecycle'>): string[] {
  return [`tier:${m.tier}`, `lifecycle:${m.lifecycle}`];
}

/**
 * Rows that tag the member's WeChat addresses for every rule whose segment holds them: on the
 * rule's account, else on each official account (`officialApps`) the member has an address on.
 * A tag already planned for the member (`wechatTags`) is not planned again.
 */
export function tagSyncMessages(rules: RulesConfig['tagSync'], m: TagMember, officialApps: readonly string[], at: number): PlannedMessage[] {
  if (rules.length === 0) return [];
  const segments = new Set(segmentsOf(m));
  const addresses = new Map<string, string>(Object.entries(m.apps ?? {}).map(([appId, a]) => [appId, a.openid]));
  if (m.wechat && !addresses.has(m.wechat.appId)) addresses.set(m.wechat.appId, m.wechat.openid);
  const out: PlannedMessage[] = [];
  for (const rule of rules) {
    if (!segments.has(rule.segment)) continue;
    for (const [appId, openid] of addresses) {
      if (rule.appId !== undefined ? rule.appId !== appId : !officialApps.includes(appId)) continue;
      if (m.wechatTags?.includes(`${appId}:${rule.tagId}`)) continue;
      out.push({ memberId: m.memberId, ruleId: TAG_SYNC_RULE, step: `${appId}:${rule.tagId}`, class: 'transactional', destination: 'member', payload: { tagId: rule.tagId, openids: [openid] }, appId, openid, triggeredAt: at });
    }
  }
  return out;
}

/** Slices of at most 50 openids (WeChat's limit per batchtagging call). */
export function taggingBatches(openids: readonly string[]): string[][] {
  const unique = [...new Set(openids)];
  const out: string[][] = [];
  for (let i = 0; i < unique.length; i += TAGGING_MAX_OPENIDS) out.push(unique.slice(i, i + TAGGING_MAX_OPENIDS));
  return out;
}

/**
 * Spaces calls per app by `minIntervalMs` within a process: a caller waits its turn. WeChat
 * counts batchtagging against the account's daily API quota (45009, deferred by the sender's
 * retry delay); the spacing keeps a burst of segment changes from spending it in one second.
 */
export function createRateLimiter(minIntervalMs: number, now: () => number = Date.now, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))) {
  const next = new Map<string, number>();
  return async (key: string): Promise<void> => {
    const t = now();
    const at = Math.max(t, next.get(key) ?? 0);
    next.set(key, at + minIntervalMs);
    if (at > t) await sleep(at - t);
  };
}

/** Product default: at most 10 batchtagging calls a second per app and process. */
export const TAGGING_MIN_INTERVAL_MS = 100;
const limiter = createRateLimiter(TAGGING_MIN_INTERVAL_MS);

/** Tags the row's openids (in slices of 50); the outcome for the engagement sender's batch. */
export async function syncTags(row: OutboxRow, wechat: (appId: string) => WechatApi, wait: (key: string) => Promise<void> = limiter): Promise<'tagged' | 'rejected'> {
  const tagId = Number(row.payload.tagId);
  const openids = Array.isArray(row.payload.openids) ? row.payload.openids.filter((o): o is string => typeof o === 'string') : [];
  if (!row.appId || !Number.isSafeInteger(tagId) || tagId <= 0 || openids.length === 0) return 'rejected';
  for (const batch of taggingBatches(openids)) {
    await wait(row.appId);
    try {
      await wechat(row.appId).batchTagging(tagId, batch);
    } catch (err) {
      if (err instanceof UpstreamApiError && !err.retryable) {
        logger.warn('WeChat refused a tag', { appId: row.appId, tagId, errcode: err.errcode });
        return 'rejected';
      }
      throw err;
    }
  }
  return 'tagged';
}

/** The engagement sender's handler of a tag row: done, or a retry with the sender's backoff. */
export async function tagRecord(row: OutboxRow, rt: Pick<SenderRuntime, 'cfg'> & { wechat(appId: string): WechatApi }, record: SQSRecord): Promise<SendRecordOutcome> {
  try {
    const result = await syncTags(row, (appId) => rt.wechat(appId));
    logger.info('wechat tag sync', { messageId: row.messageId, memberId: row.memberId, result });
    return { kind: 'done', outcome: { status: 'lookup', result } };
  } catch (err) {
    logger.error('wechat tag sync failed', { messageId: row.messageId, error: (err as Error).message });
    return { kind: 'retry', delaySeconds: retryDelaySeconds(Number(record.attributes?.ApproximateReceiveCount ?? '1'), rt.cfg.policy), reason: 'tag_error' };
  }
}
