/** GET /members/{id}: the member with identities, points ledger, orders and touches (bounded reads). */
import { NotFoundError } from '../errors.ts';
import { isPathId } from '../store/keys.ts';
import { identities } from '../store/entities/identity.ts';
import { ledger } from '../store/entities/ledger.ts';
import { lots } from '../store/entities/lot.ts';
import { orders } from '../store/entities/order.ts';
import { merges } from '../store/entities/merge.ts';
import { readMember } from './record.ts';
import type { Store } from '../store/client.ts';
import { memberView } from './view.ts';

/** Items of each kind read per member record (one page). */
const LIMIT = 200;

export async function memberProfile(store: Store, memberId: string) {
  if (!isPathId(memberId)) throw new NotFoundError('no such member');
  const m = await readMember(store, memberId);
  if (!m) throw new NotFoundError(`no member ${memberId}`);
  const ids = [m.memberId, ...(m.mergedFrom ?? [])];
  const per = await Promise.all(
    ids.map(async (id) => ({
      identities: await identities.listForMember(store, id, LIMIT),
      ledger: await ledger.listForMember(store, id, LIMIT),
      lots: await lots.listForMember(store, id, LIMIT),
      orders: await orders.listForMember(store, id, LIMIT),
      merges: await merges.listForMember(store, id, LIMIT),
    })),
  );
  const flat = <K extends keyof (typeof per)[number]>(k: K) => per.flatMap((p) => p[k]);
  return {
    ...memberView(m),
    identities: flat('identities').map((i) => ({ kind: i.kind, value: i.kind === 'phone' ? '(hashed)' : i.value, since: i.at })),
    points: { balance: m.points, lots: flat('lots'), ledger: flat('ledger').sort((a, b) => Number(b.at) - Number(a.at)) },
    orders: flat('orders'),
    touches: {
      first: m.firstTouch,
      last: m.lastTouch,
      follows: m.history.follows,
      unfollows: m.history.unfollows,
      qrScans: m.history.qrScans,
      codeScans: m.history.codeScans,
    },
    merges: flat('merges'),
  };
}
