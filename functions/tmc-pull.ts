/**
 * Scheduled: pulls Tmall TMC messages through TOP (`taobao.tmc.messages.consume`), applies each,
 * and confirms only what committed (or was already committed, or is a topic the hub does not
 * use). A message whose apply failed transiently stays unconfirmed, so TOP redelivers it.
 * Runs until the queue is empty or the invocation's time is nearly spent; returns the counts.
 */
import { applyWith } from '../lib/apply/apply-with.ts';
import { COMMERCE_PLANNERS } from '../lib/apply/planners/orders.ts';
import { pullTmc } from '../lib/sources/tmall/pull.ts';
import { logger } from '../lib/log.ts';
import { schedule } from '../lib/runtime/lambda.ts';

/** Without a Lambda context (a manual run), the budget of the manifest's 60 s timeout. */
const FALLBACK_BUDGET_MS = 60_000;

export const handler = schedule({ name: 'tmc-pull' }, async (rt, ctx) => {
  const deadline = Date.now() + FALLBACK_BUDGET_MS;
  const remainingMs = ctx.remainingMs ?? (() => deadline - Date.now());
  const top = rt.top();
  // With the seller's session, every new trade's CRM detail (ouid, lines, pay time) is fetched.
  const detail = rt.cfg.TMALL_SESSION_KEY ? { detail: (tid: string) => top.getTradeSimple(tid) } : {};
  const out = await pullTmc({ source: top, apply: (e) => applyWith(COMMERCE_PLANNERS, e, rt), remainingMs, ...detail });
  if (out.consumed || out.failed || out.confirmFailed) logger.info('tmc pull', { ...out });
  return out;
});
