/**
 * Reconciliation overlapping with pushes, end to end through the test hub (local/hub.ts: gateway,
 * the TOP and Youzan stand-ins, DynamoDB Local).
 *
 * 60 Tmall trades and 60 Youzan orders of 40 buyers, each paid once. A seeded third of them is
 * only on the platforms (never pushed), a third only pushed, a third both. The pushes of the last
 * two thirds (Tmall TMC TradeBuyerPay relays, Youzan TradePaid pushes) plus 30 % redeliveries are
 * shuffled and delivered four at a time WHILE reconcile runs three times, so reconcile reads
 * trades a push is applying at that moment, and pushes arrive late for trades reconcile applied.
 *
 * The end state must equal an independent model: every order paid with 1 point per yuan of its
 * payment, each buyer's points the sum of its orders, exactly one `order` ledger entry per order;
 * and every never-pushed order counted as a gap by reconcile.
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { postCommerce, signedTmall, signedYouzan } from '../support/commerce-client.ts';
import { getItem, queryAll, survivorByIdentity } from '../support/table.ts';
import { seededRandom, shuffle } from '../support/random.ts';
import { withDuplicates } from './lib/wechat-driver.ts';
import { formatChinaTime, parseChinaTime } from '../../lib/sources/commerce/time.ts';
import { orderKey } from '../../lib/store/entities/order.ts';
import { keys } from '../../lib/store/keys.ts';
import type { ReconcileRun } from '../../lib/sources/commerce/reconcile.ts';

const SELLER = '2207512345678';
const KDT = '12345678';
const T0 = parseChinaTime('2025-11-10 10:00:00', 'test');
const CLOCK = T0 + 2 * 3600_000;
const ORDERS = 60;
const BUYERS = 40;

type Route = 'platform_only' | 'push_only' | 'both';
interface Spec {
  platform: 'tmall' | 'youzan';
  orderId: string;
  buyer: number;
  fen: number;
  paidAt: number;
  route: Route;
}

const rnd = seededRandom(2417);
const ROUTES: Route[] = ['platform_only', 'push_only', 'both'];
const SPECS: Spec[] = (['tmall', 'youzan'] as const).flatMap((platform) =>
  Array.from({ length: ORDERS }, (_, i) => ({
    platform,
    orderId: platform === 'tmall' ? String(4100000000000000000n + BigInt(i)) : `E2025111010${String(i).padStart(8, '0')}`,
    buyer: Math.floor(rnd() * BUYERS),
    fen: 100 + Math.floor(rnd() * 99_900),
    paidAt: T0 + Math.floor(rnd() * 3600) * 1000,
    route: ROUTES[Math.floor(rnd() * 3)]!,
  })),
);

const yuan = (fen: number) => (fen / 100).toFixed(2);
const buyerId = (platform: Spec['platform'], n: number) => (platform === 'tmall' ? `AAGqRecon-${n}` : `yzRecon${n}`);

function platformTrade(s: Spec): Record<string, unknown> {
  const at = formatChinaTime(s.paidAt);
  if (s.platform === 'tmall') {
    return { tid: s.orderId, status: 'WAIT_SELLER_SEND_GOODS', buyer_open_uid: buyerId('tmall', s.buyer), created: at, pay_time: at, modified: at, total_fee: yuan(s.fen), payment: yuan(s.fen) };
  }
  return {
    full_order_info: {
      order_info: { tid: s.orderId, status: 'WAIT_SELLER_SEND_GOODS', created: at, pay_time: at, update_time: at, order_tags: { is_payed: true } },
      buyer_info: { yz_open_id: buyerId('youzan', s.buyer) },
      pay_info: { total_fee: yuan(s.fen), post_fee: '0.00', payment: yuan(s.fen) },
    },
  };
}

function push(s: Spec, n: number): { path: string; body: string; headers: Record<string, string> } {
  if (s.platform === 'tmall') {
    const content = JSON.stringify({ tid: s.orderId, status: 'WAIT_SELLER_SEND_GOODS', payment: yuan(s.fen), buyer_open_uid: buyerId('tmall', s.buyer), modified: formatChinaTime(s.paidAt) });
    const msg = { id: String(7400000000000000000n + BigInt(n)), topic: 'taobao_trade_TradeBuyerPay', pub_time: formatChinaTime(s.paidAt), user_id: SELLER, content };
    return signedTmall(JSON.stringify([msg]), { at: s.paidAt + 5000 });
  }
  const raw = JSON.stringify({
    client_id: hub.runtime.cfg.YOUZAN_CLIENT_ID,
    id: s.orderId,
    kdt_id: Number(KDT),
    msg: encodeURIComponent(JSON.stringify(platformTrade(s))),
    msg_id: `recon-${s.orderId}`,
    sendCount: 1,
    status: '',
    test: false,
    type: 'trade_TradePaid',
    version: Math.floor(s.paidAt / 1000),
  });
  return signedYouzan(raw, 'trade_TradePaid');
}

const hub = useTestHub({ replaysHistory: true, queuePrefix: 'rcr', functions: ['tmall', 'youzan', 'reconcile'] });

describe('reconcile runs while the pushes of the same trades arrive, twice and shuffled', () => {
  it('every order is paid once with its points, whatever came first; the never-pushed ones are gaps', async () => {
    hub.reconfigure({ now: () => CLOCK });
    for (const s of SPECS) {
      if (s.route === 'push_only') continue;
      if (s.platform === 'tmall') hub.top.addTrade(platformTrade(s));
      else hub.youzan.addOrder(platformTrade(s));
    }
    const pushes = SPECS.map((s, n) => ({ s, n })).filter(({ s }) => s.route !== 'platform_only');
    const deliveries = withDuplicates(pushes, Math.round(pushes.length * 0.3), 99);
    shuffle(deliveries, 7);

    const statuses: number[] = [];
    const lane = async () => {
      for (let d = deliveries.shift(); d; d = deliveries.shift()) statuses.push((await postCommerce(hub.url, push(d.s, d.n))).status);
    };
    const runs: ReconcileRun[] = [];
    const reconcileLane = async () => {
      for (let i = 0; i < 3; i++) runs.push((await hub.runScheduled('reconcile')) as ReconcileRun);
    };
    await Promise.all([lane(), lane(), lane(), lane(), reconcileLane()]);

    expect(statuses.filter((x) => x !== 200)).toEqual([]);
    for (const r of runs) for (const s of r.sources) expect(s.stoppedBy).toBe('caught_up');
    const gapIds = new Set(runs.flatMap((r) => r.sources.flatMap((s) => s.gaps.map((g) => `${g.platform}:${g.orderId}`))));
    for (const s of SPECS.filter((x) => x.route === 'platform_only')) expect(gapIds.has(`${s.platform}:${s.orderId}`)).toBe(true);
    for (const s of SPECS.filter((x) => x.route === 'push_only')) expect(gapIds.has(`${s.platform}:${s.orderId}`)).toBe(false);

    // The model: 1 point per whole yuan of each payment, summed per buyer.
    const expected = new Map<string, number>();
    for (const s of SPECS) {
      const shop = s.platform === 'tmall' ? SELLER : KDT;
      const order = await getItem(hub.aws.table, orderKey(s.platform, shop, s.orderId));
      expect(order, `${s.platform} ${s.orderId}`).toMatchObject({ status: 'paid', paidFen: s.fen, pointsEarned: Math.floor(s.fen / 100), pointsClawed: 0 });
      const key = `${s.platform}:${s.buyer}`;
      expected.set(key, (expected.get(key) ?? 0) + Math.floor(s.fen / 100));
    }
    for (const [key, points] of expected) {
      const [platform, n] = key.split(':') as ['tmall' | 'youzan', string];
      const kind = platform === 'tmall' ? 'tmall_buyer_open_uid' : 'youzan_open_id';
      const m = (await survivorByIdentity(hub.aws.table, kind, buyerId(platform, Number(n))))!;
      expect(m, key).toMatchObject({ points });
      const ledger = await queryAll(hub.aws.table, keys.memberPartition(String(m.memberId)), 'LEDGER#');
      const mine = SPECS.filter((s) => `${s.platform}:${s.buyer}` === key);
      expect(ledger.map((l) => [l.delta, l.reason]).sort(), key).toEqual(mine.map((s) => [Math.floor(s.fen / 100), 'order']).sort());
    }
  });
});
