/**
 * Staff alerts reach staff (docs/design.md#staff-alerts): the consumer of the `staff-alerts`
 * queue (functions/staff-alerts-sender.ts) sends each alert row (destination `staff`, e.g. the
 * lapse alert of lib/engagement/rules/lapse.ts) as a WeCom app message (`message/send`, the app
 * WECOM_AGENT_ID / WECOM_AGENT_SECRET) to the member's guide: the staff member whose contact the
 * member currently is (the latest one added when several), else the staff members of
 * WECOM_STAFF_FALLBACK_USERIDS.
 *
 * - Batched: the alerts of one SQS batch for the same recipients are one message (several when
 *   the text would pass WeCom's 2,048 bytes).
 * - Rate-limited: each message takes one unit of every recipient's budget (30 a minute, 1,000 an
 *   hour: lib/store/entities/staff-rate.ts), since WeCom drops silently what exceeds it; an alert
 *   over budget is retried when the window turns.
 * - At most once per alert, through its send record (`SEND#<messageId>`, the engagement sender's
 *   state machine: lib/store/entities/send.ts): a finished alert delivered again sends nothing;
 *   an attempt that finds an earlier call without an answer marks the alert `unknown`.
 * - Failures: no recipient → `suppressed` `no_staff_recipient`; WeCom refusing every recipient
 *   (81013) → `failed`; an app not configured or refused by configuration (40001, 40056, 48002,
 *   60011, 60020), a retryable errcode or a store fault → retried with backoff, so it ends in the
 *   staff-alerts dead-letter queue (alarmed) and is redriven once fixed.
 */
import type { SQSRecord } from 'aws-lambda';
import { UpstreamApiError } from '../errors.ts';
import type { OutboxRow } from '../events/messages.ts';
import { logger } from '../log.ts';
import type { RecordOutcome } from '../runtime/lambda.ts';
import { sends, type Fence } from '../store/entities/send.ts';
import { staffRates, type StaffRateLimits } from '../store/entities/staff-rate.ts';
import { readMember, type StoredMember } from '../members/record.ts';
import type { MemberRecord } from '../members/model.ts';
import { retryDelaySeconds } from '../engagement/guardrails.ts';
import type { SenderRuntime } from '../engagement/send/batch.ts';
import { DEFAULT_LEASE_MS } from '../engagement/send/flow.ts';
import { fenToYuan } from '../attribution/csv.ts';
import { localDay } from '../time.ts';
import { APP_TEXT_MAX_BYTES, wecomAgentApi, type WecomApi } from './client.ts';

/** WeCom's per-member receive limits for app messages (docs/platforms.md#wecom-app-messages). */
export const STAFF_RATE_LIMITS: StaffRateLimits = { perMinute: 30, perHour: 1000 };

/** Errcodes of a misconfigured app: retried (to the dead-letter queue), never dropped. */
const CONFIG_ERRCODES = new Set(['not_configured', '40001', '40013', '40056', '48002', '60011', '60020']);
/** Errcodes of an answer that never arrived: WeCom may have delivered the message. */
const AMBIGUOUS = new Set(['network', 'timeout', 'bad_response']);

/** The member's guide: the staff member whose contact they currently are, the latest added first. */
export function guideOf(m: Pick<MemberRecord, 'wecom'>): string | undefined {
  const current = Object.entries(m.wecom?.guides ?? {}).filter(([, g]) => g.addedAt !== undefined && (g.removedAt === undefined || g.addedAt > g.removedAt));
  current.sort(([a, x], [b, y]) => y.addedAt! - x.addedAt! || (a < b ? -1 : a > b ? 1 : 0));
  return current[0]?.[0];
}

/** Who receives an alert about `m`: the guide, else the fallback list (empty: nobody). */
export function recipientsOf(m: Pick<MemberRecord, 'wecom'> | undefined, fallback: string | undefined): string[] {
  const guide = m && guideOf(m);
  if (guide) return [guide];
  return fallback ? [...new Set(fallback.split(','))] : [];
}

const TIER_ZH: Record<string, string> = { normal: '普通', silver: '银卡', gold: '金卡', diamond: '钻石' };

/** The line of one alert. */
export function alertLine(row: Pick<OutboxRow, 'ruleId' | 'memberId' | 'payload'>, m: Pick<MemberRecord, 'name' | 'memberId'> | undefined, tz: string): string {
  const who = `${m?.name ?? '会员'}（${m?.memberId ?? row.memberId}）`;
  const p = row.payload;
  if (row.ruleId === 'lapse_alert') {
    const tier = TIER_ZH[String(p.tier)] ?? String(p.tier ?? '');
    const last = typeof p.lastOrderAt === 'number' && p.lastOrderAt > 0 ? `，最近下单 ${localDay(p.lastOrderAt, tz)}` : '';
    const gmv = typeof p.gmvFen === 'number' ? `，累计消费 ¥${fenToYuan(p.gmvFen)}` : '';
    return `【流失预警】${tier}${who}已 ${String(p.days ?? '')} 天未下单${last}${gmv}`;
  }
  return `【会员提醒】${who}：${row.ruleId}`;
}

/** Items packed in order into messages whose lines (joined by newlines) take at most `maxBytes` each; an item longer than that is its own message (cut by the client). */
export function packLines<T>(items: readonly T[], lineOf: (item: T) => string, maxBytes = APP_TEXT_MAX_BYTES): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = Buffer.byteLength(lineOf(item), 'utf8');
    if (cur.length && bytes + 1 + n > maxBytes) {
      out.push(cur);
      cur = [];
    }
    bytes = cur.length ? bytes + 1 + n : n;
    cur.push(item);
  }
  if (cur.length) out.push(cur);
  return out;
}

interface Claimed {
  row: OutboxRow;
  record: SQSRecord;
  fence: Fence;
  memberId: string;
  recipients: string[];
  line: string;
}

type Rt = Pick<SenderRuntime, 'cfg' | 'store' | 'now' | 'sender' | 'metrics'>;

const receives = (record: SQSRecord) => Number(record.attributes?.ApproximateReceiveCount ?? '1');

/** Sends a batch of alert rows; an outcome per SQS message id. `api` defaults to the configured staff app. */
export async function sendStaffAlerts(items: readonly { msg: OutboxRow; record: SQSRecord }[], rt: Rt, api?: { api: WecomApi; agentId: string }): Promise<Map<string, RecordOutcome>> {
  const out = new Map<string, RecordOutcome>();
  const backoff = (c: { record: SQSRecord }) => retryDelaySeconds(receives(c.record), rt.cfg.policy);
  const claimed: Claimed[] = [];
  await Promise.all(
    items.map(async ({ msg: row, record }) => {
      const id = record.messageId;
      try {
        const c = await claimOne(row, record, rt);
        if ('kind' in c) out.set(id, c);
        else claimed.push(c);
      } catch (err) {
        logger.error('staff alert failed', { messageId: row.messageId, error: (err as Error).message });
        out.set(id, { kind: 'retry', delaySeconds: backoff({ record }), reason: 'store_error' });
      }
    }),
  );
  const groups = new Map<string, Claimed[]>();
  for (const c of claimed) {
    const key = c.recipients.join('|');
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, group] of groups) {
    const recipients = key.split('|');
    for (const chunk of packLines(group, (c) => c.line)) {
      // The alerts this message carries: those still held by this attempt.
      let live = chunk;
      const settle = async (outcome: 'sent' | 'unknown' | 'retry' | 'failed', extra: { delaySeconds?: number; reason?: string; errcode?: string } = {}) => {
        for (const c of live) {
          const r = await finish(c, outcome, rt, extra).catch((err: unknown): RecordOutcome => {
            logger.error('staff alert outcome not recorded', { messageId: c.row.messageId, error: (err as Error).message });
            return { kind: 'retry', delaySeconds: backoff(c), reason: 'store_error' };
          });
          out.set(c.record.messageId, r);
        }
      };
      try {
        const app = api ?? wecomAgentApi(rt.cfg);
        let wait: number | undefined;
        for (const userId of recipients) {
          const take = await staffRates.take(rt.store, rt.cfg.WECOM_CORP_ID ?? '-', userId, rt.now(), STAFF_RATE_LIMITS);
          if (!take.ok) {
            wait = Math.max(1, Math.ceil((take.retryAt - rt.now()) / 1000));
            break;
          }
        }
        if (wait !== undefined) {
          await settle('retry', { delaySeconds: wait, reason: 'staff_rate_limited' });
          continue;
        }
        const marked: Claimed[] = [];
        for (const c of live) {
          const m = await sends.markCall(rt.store, c.fence, { via: 'wecom_app', at: rt.now(), appId: rt.cfg.WECOM_CORP_ID ?? '-', openid: key, clientMsgId: c.row.messageId, resumed: false });
          if (m === 'superseded') out.set(c.record.messageId, { kind: 'done', outcome: { status: 'duplicate', existing: 'taken_over' } });
          else marked.push(c);
        }
        live = marked;
        if (!live.length) continue;
        const r = await app.api.sendAppText(app.agentId, recipients, live.map((c) => c.line).join('\n'));
        if (r.invalidUsers.length) logger.warn('WeCom did not deliver a staff alert to some recipients', { invalid: r.invalidUsers.length, recipients: recipients.length });
        await settle('sent');
        rt.metrics?.add('MessagesSent', {}, live.length);
      } catch (err) {
        const errcode = err instanceof UpstreamApiError ? String(err.errcode) : 'error';
        logger.error('staff alert send failed', { errcode, alerts: live.length });
        if (AMBIGUOUS.has(errcode)) await settle('unknown', { reason: `wecom_app_${errcode}` });
        else if (err instanceof UpstreamApiError && !err.retryable && !CONFIG_ERRCODES.has(errcode)) await settle('failed', { reason: 'wecom_error', errcode });
        else await settle('retry', { reason: CONFIG_ERRCODES.has(errcode) ? 'wecom_not_configured' : 'wecom_retryable', errcode });
      }
    }
  }
  return out;
}

/** Claims one alert and finds its recipients; an outcome when there is nothing to send. */
async function claimOne(row: OutboxRow, record: SQSRecord, rt: Rt): Promise<Claimed | RecordOutcome> {
  const claim = await sends.claim(rt.store, row, rt.now(), rt.sender.leaseMs ?? DEFAULT_LEASE_MS);
  if (claim.kind === 'done') return { kind: 'done', outcome: { status: 'duplicate', existing: claim.status } };
  if (claim.kind === 'busy') return { kind: 'retry', delaySeconds: claim.delaySeconds, reason: 'in_flight' };
  const fence = claim.fence;
  const suppress = async (reason: string): Promise<RecordOutcome> => {
    await sends.suppress(rt.store, fence, { row, memberId: row.memberId, reason, at: rt.now() });
    return { kind: 'done', outcome: { status: 'suppressed', reason } };
  };
  if (claim.previous?.callVia) {
    await sends.markUnknown(rt.store, fence, { row, memberId: row.memberId, reason: 'wecom_app_send_outcome_unknown', at: rt.now() });
    return { kind: 'done', outcome: { status: 'unknown' } };
  }
  if (row.destination !== 'staff') return suppress('wrong_queue');
  const member: StoredMember | undefined = await readMember(rt.store, row.memberId);
  const recipients = recipientsOf(member, rt.cfg.WECOM_STAFF_FALLBACK_USERIDS);
  if (!recipients.length) return suppress('no_staff_recipient');
  return { row, record, fence, memberId: member?.memberId ?? row.memberId, recipients, line: alertLine(row, member, rt.cfg.HUB_TIMEZONE) };
}

/** Records an alert's outcome on its send record. */
async function finish(c: Claimed, outcome: 'sent' | 'unknown' | 'retry' | 'failed', rt: Rt, extra: { delaySeconds?: number; reason?: string; errcode?: string }): Promise<RecordOutcome> {
  const at = rt.now();
  switch (outcome) {
    case 'sent':
      await sends.recordSent(rt.store, { row: c.row, memberId: c.memberId, via: 'wecom_app', appId: rt.cfg.WECOM_CORP_ID ?? '-', fallback: false, at });
      return { kind: 'done', outcome: { status: 'sent', via: 'wecom_app' } };
    case 'unknown':
      await sends.markUnknown(rt.store, c.fence, { row: c.row, memberId: c.memberId, reason: extra.reason ?? 'unknown', at });
      return { kind: 'done', outcome: { status: 'unknown' } };
    case 'failed':
      await sends.fail(rt.store, c.fence, { reason: extra.reason ?? 'failed', at, ...(extra.errcode !== undefined && { errcode: extra.errcode }) });
      return { kind: 'done', outcome: { status: 'failed', reason: extra.reason, errcode: extra.errcode } };
    case 'retry':
      await sends.release(rt.store, c.fence, 'retry', at, { clearCall: true, ...(extra.errcode !== undefined && { lastErrcode: extra.errcode }) });
      return { kind: 'retry', delaySeconds: extra.delaySeconds ?? retryDelaySeconds(receives(c.record), rt.cfg.policy), reason: extra.reason ?? 'retry' };
  }
}
