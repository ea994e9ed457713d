/**
 * Learning a Tmall trade's `ouid` after the reply (docs/platforms.md#tmall-tmc-messages): a trade
 * first applied without it (a relayed `POST /tmall/{appKey}` message, a trade found by the
 * catch-up poll) plans an engagement-queue row `tmall_detail_lookup`; the engagement sender hands
 * it here: `taobao.trade.simple.get` as the seller, then `platform.member_join` with the buyer's
 * `buyer_open_uid`, `ouid` and `omid` applied as its own event (dedupe key
 * `tmall:detail:<shopId>:<tid>:<ouid>`), which joins — or merges with — the member of that `ouid`
 * (e.g. the 会员通-bound member). TOP is never asked before a push is answered.
 *
 * Outcomes: no `ouid` in the answer → done; two records that cannot be one person → done,
 * logged (identity_conflict); a retryable TOP error or a store fault → retry with the sender's
 * backoff; a permanent TOP error → done, logged.
 */
import { UpstreamApiError } from '../errors.ts';
import type { Identity } from '../events/hub-event.ts';
import type { OutboxRow } from '../events/messages.ts';
import { logger } from '../log.ts';
import type { ApplyDeps } from '../port.ts';
import type { TopClient } from '../sources/tmall/top-client.ts';
import { applyLink } from './link.ts';

export type DetailOutcome = { status: 'linked'; memberId?: string; duplicate: boolean } | { status: 'no_ouid' | 'conflict' | 'rejected' };

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined);

/** Asks the trade's detail and applies the buyer ids it names. */
export async function lookupTradeDetail(row: Pick<OutboxRow, 'payload' | 'triggeredAt'>, deps: ApplyDeps & { top(): TopClient }): Promise<DetailOutcome> {
  const shopId = text(row.payload['shopId']);
  const tid = text(row.payload['tid']);
  const openUid = text(row.payload['buyerOpenUid']);
  if (!shopId || !tid || !openUid) return { status: 'rejected' };
  let trade: Record<string, unknown>;
  try {
    trade = await deps.top().getTradeSimple(tid);
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) {
      logger.warn('Tmall trade detail refused by TOP', { tid, code: err.code });
      return { status: 'rejected' };
    }
    throw err;
  }
  const ouid = text(trade['ouid']);
  if (!ouid) return { status: 'no_ouid' };
  const omid = text(trade['omid']);
  const buyer: Identity[] = [
    { kind: 'tmall_buyer_open_uid', value: openUid },
    { kind: 'tmall_ouid', value: ouid },
    ...(omid ? [{ kind: 'tmall_omid' as const, value: omid }] : []),
  ];
  return applyLink(
    { type: 'platform.member_join', source: 'tmall', platform: 'tmall', eventId: `tmall:detail:${shopId}:${tid}:${ouid}`, occurredAt: row.triggeredAt, shopId, buyer },
    deps,
    { message: 'Tmall ouid not linked: the records cannot be one person', fields: { tid } },
  );
}
