/**
 * Scheduled: the catch-up polls (lib/sources/commerce/reconcile.ts). Reads each configured
 * platform's orders by modified time from its cursor and applies them through the same path as
 * the pushes; reports what it found that no push had delivered (ReconcileGaps).
 * Tmall runs with TMALL_SESSION_KEY and TMALL_SELLER_ID, Youzan with YOUZAN_KDT_ID; a platform
 * without its settings is skipped and named in the answer.
 */
import { applyWith } from '../lib/apply/apply-with.ts';
import { COMMERCE_PLANNERS } from '../lib/apply/planners/orders.ts';
import { logger } from '../lib/log.ts';
import { reconcile, type ReconcileSource } from '../lib/sources/commerce/reconcile.ts';
import { tmallReconcileSource } from '../lib/sources/tmall/reconcile.ts';
import { youzanReconcileSource } from '../lib/sources/youzan/reconcile.ts';
import { schedule } from '../lib/runtime/lambda.ts';
import type { Runtime } from '../lib/runtime/runtime.ts';

/** Without a Lambda context (a manual run), the budget of the manifest's timeout. */
const FALLBACK_BUDGET_MS = 240_000;

/** The sources this runtime is configured for, and the platforms skipped for want of settings. */
export function reconcileSources(rt: Runtime): { sources: ReconcileSource[]; skipped: string[] } {
  const sources: ReconcileSource[] = [];
  const skipped: string[] = [];
  const { cfg } = rt;
  if (cfg.TMALL_SESSION_KEY && cfg.TMALL_SELLER_ID) sources.push(tmallReconcileSource(rt.top(), cfg.TMALL_SELLER_ID, cfg.TMALL_SESSION_KEY));
  else skipped.push('tmall');
  const yz = rt.youzan();
  if (yz) {
    sources.push(
      youzanReconcileSource(yz, {
        kdtId: cfg.YOUZAN_KDT_ID!,
        phoneHashSecret: cfg.PHONE_HASH_SECRET,
        ...(cfg.YOUZAN_WECHAT_APP_ID ? { wechatAppId: cfg.YOUZAN_WECHAT_APP_ID } : {}),
      }),
    );
  } else skipped.push('youzan');
  return { sources, skipped };
}

export const handler = schedule({ name: 'reconcile' }, async (rt, ctx) => {
  const deadline = Date.now() + FALLBACK_BUDGET_MS;
  const remainingMs = ctx.remainingMs ?? (() => deadline - Date.now());
  const { sources, skipped } = reconcileSources(rt);
  const run = await reconcile({ sources, apply: (e) => applyWith(COMMERCE_PLANNERS, e, rt), store: rt.store, now: rt.now, remainingMs, metrics: rt.metrics });
  for (const s of run.sources) {
    const { gaps, ...counts } = s;
    logger.info('reconcile', { ...counts, gaps: gaps.length });
  }
  if (skipped.length) logger.info('reconcile: platforms without their settings skipped', { skipped });
  return { ...run, skipped };
});
