/**
 * Learning a follower's unionid after the reply (docs/design.md#wechat-accounts). A first follow
 * of an account (in an estate of several apps) plans an engagement-queue row `unionid_lookup`;
 * the engagement sender hands it here instead of sending anything: `cgi-bin/user/info` with the
 * account's own token, then `wechat.unionid` applied as its own event (dedupe key
 * `wechat:unionid:<appId>:<openid>:<unionid>`), which may merge records. WeChat is never asked
 * before the push is answered.
 *
 * Outcomes: no unionid (the account is not bound to an open platform) → done; a record that
 * already holds another unionid → done, logged, nothing merged (identity_conflict); a retryable
 * WeChat error or a store fault → retry with the sender's backoff; a permanent WeChat error
 * (e.g. the openid left the account's scope) → done, logged.
 */
import type { SQSRecord } from 'aws-lambda';
import { AUDIENCE_PAGE_RULE, TAG_SYNC_RULE, TMALL_DETAIL_RULE, UNIONID_LOOKUP_RULE, WECOM_CONTACT_LOOKUP_RULE, WECOM_WELCOME_RULE, type OutboxRow } from '../events/messages.ts';
import { welcomeRecord } from '../wecom/welcome.ts';
import type { TopClient } from '../sources/tmall/top-client.ts';
import { lookupTradeDetail } from './tmall-detail.ts';
import { tagRecord } from '../engagement/tags.ts';
import { wecomContactApi, type WecomApi } from '../wecom/client.ts';
import { UpstreamApiError } from '../errors.ts';
import { logger } from '../log.ts';
import type { ApplyDeps } from '../port.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { retryDelaySeconds } from '../engagement/guardrails.ts';
import { sendRecord, type SendRecordOutcome, type SenderRuntime } from '../engagement/send/batch.ts';
import { applyLink } from './link.ts';
import { pageRecord } from '../audiences/pages.ts';

export type LookupOutcome = { status: 'linked'; memberId?: string; duplicate: boolean } | { status: 'no_unionid' | 'conflict' | 'rejected' };

/** Asks user/info for the row's address and applies the unionid it names. */
export async function lookupUnionid(row: Pick<OutboxRow, 'appId' | 'openid' | 'triggeredAt'>, deps: ApplyDeps & { wechat(appId: string): WechatApi }): Promise<LookupOutcome> {
  const { appId, openid } = row;
  if (!appId || !openid) return { status: 'rejected' };
  let unionid: string | undefined;
  try {
    unionid = (await deps.wechat(appId).userInfo(openid)).unionid;
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) {
      logger.warn('unionid lookup refused by WeChat', { appId, errcode: err.errcode });
      return { status: 'rejected' };
    }
    throw err;
  }
  if (!unionid) return { status: 'no_unionid' };
  return applyLink(
    { type: 'wechat.unionid', source: 'wechat', eventId: `wechat:unionid:${appId}:${openid}:${unionid}`, occurredAt: row.triggeredAt, appId, openid, unionid, via: 'user_info' },
    deps,
    { message: 'unionid not linked: the record holds another unionid', fields: { appId } },
  );
}

/**
 * The same for a WeCom contact (row `appId` = corp id, `openid` = external_userid):
 * `externalcontact/get` with the customer-contact secret, then `wecom.unionid` applied as its own
 * event (dedupe key `wecom:unionid:<corpId>:<external_userid>:<unionid>`). Same outcomes.
 */
export async function lookupWecomUnionid(row: Pick<OutboxRow, 'appId' | 'openid' | 'triggeredAt'>, deps: ApplyDeps & { wecom: WecomApi }): Promise<LookupOutcome> {
  const { appId: corpId, openid: externalUserId } = row;
  if (!corpId || !externalUserId) return { status: 'rejected' };
  let unionid: string | undefined;
  try {
    unionid = (await deps.wecom.externalContact(externalUserId)).unionid;
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) {
      logger.warn('WeCom contact lookup refused', { corpId, errcode: err.errcode });
      return { status: 'rejected' };
    }
    throw err;
  }
  if (!unionid) return { status: 'no_unionid' };
  return applyLink(
    { type: 'wecom.unionid', source: 'wecom', eventId: `wecom:unionid:${corpId}:${externalUserId}:${unionid}`, occurredAt: row.triggeredAt, corpId, externalUserId, unionid },
    deps,
    { message: 'WeCom unionid not linked: the record holds another unionid', fields: { corpId } },
  );
}

/** What a lookup row asks, by its rule (every other row is a message for the sender). */
const LOOKUPS = new Set<string>([UNIONID_LOOKUP_RULE, TMALL_DETAIL_RULE, WECOM_CONTACT_LOOKUP_RULE]);

/**
 * The engagement sender's record handler: lookup rows here (a WeChat unionid, a WeCom contact's
 * unionid, a Tmall trade's detail: lib/apply/tmall-detail.ts), tag rows to lib/engagement/tags.ts,
 * WeCom welcomes to lib/wecom/welcome.ts, audience and campaign pages to lib/audiences/pages.ts,
 * every other row to the sender (lib/engagement/send/batch.ts).
 */
export async function engagementRecord(row: OutboxRow, rt: SenderRuntime & ApplyDeps & { top(): TopClient }, record: SQSRecord): Promise<SendRecordOutcome> {
  if (row.ruleId === TAG_SYNC_RULE) return tagRecord(row, rt, record);
  if (row.ruleId === WECOM_WELCOME_RULE) return welcomeRecord(row, rt, record);
  if (row.ruleId === AUDIENCE_PAGE_RULE) return pageRecord(row, rt, record);
  if (!LOOKUPS.has(row.ruleId)) return sendRecord(row, rt, record);
  try {
    const outcome =
      row.ruleId === TMALL_DETAIL_RULE
        ? await lookupTradeDetail(row, rt)
        : row.ruleId === WECOM_CONTACT_LOOKUP_RULE
          ? await lookupWecomContact(row, rt)
          : await lookupUnionid(row, { ...rt, wechat: (appId) => rt.wechat(appId) });
    logger.info(row.ruleId, { messageId: row.messageId, memberId: row.memberId, ...outcome });
    return { kind: 'done', outcome: { status: 'lookup', result: outcome.status } };
  } catch (err) {
    logger.error(`${row.ruleId} failed`, { messageId: row.messageId, error: (err as Error).message });
    const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    return { kind: 'retry', delaySeconds: retryDelaySeconds(receives, rt.cfg.policy), reason: 'lookup_error' };
  }
}

/** A WeCom contact lookup; a corp without the customer-contact secret has nothing to ask and nothing to retry. */
async function lookupWecomContact(row: OutboxRow, rt: SenderRuntime & ApplyDeps): Promise<LookupOutcome> {
  try {
    return await lookupWecomUnionid(row, { ...rt, wecom: wecomContactApi(rt.cfg, 'externalcontact/get') });
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) return { status: 'rejected' };
    throw err;
  }
}
