/** GET /members/{id}: the member with identities, points ledger, orders and touches (bounded reads). */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../errors.ts';
import { GSI1, isPathId, keys, memberPrefixes } from '../store/keys.ts';
import { readMember } from './record.ts';
import type { Store } from '../store/client.ts';
import { memberView } from './view.ts';

const LIMIT = 200;

async function queryAll(store: Store, input: { index?: boolean; pk: string; prefix?: string; newestFirst?: boolean }) {
  const res = await store.db.send(
    new QueryCommand({
      TableName: store.table,
      ...(input.index ? { IndexName: GSI1 } : {}),
      KeyConditionExpression: input.index ? 'gsi1pk = :p' : input.prefix ? 'pk = :p AND begins_with(sk, :s)' : 'pk = :p',
      ExpressionAttributeValues: { ':p': input.pk, ...(input.prefix ? { ':s': input.prefix } : {}) },
      ScanIndexForward: !input.newestFirst,
      Limit: LIMIT,
    }),
  );
  return (res.Items ?? []).map(({ pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...rest }) => rest);
}

export async function memberProfile(store: Store, memberId: string) {
  if (!isPathId(memberId)) throw new NotFoundError('no such member');
  const m = await readMember(store, memberId);
  if (!m) throw new NotFoundError(`no member ${memberId}`);
  const ids = [m.memberId, ...(m.mergedFrom ?? [])];
  const per = await Promise.all(
    ids.map(async (id) => ({
      identities: await queryAll(store, { index: true, pk: keys.memberIdentitiesIndex(id, '', '').gsi1pk }),
      ledger: await queryAll(store, { pk: keys.memberPartition(id), prefix: memberPrefixes.ledger, newestFirst: true }),
      lots: await queryAll(store, { pk: keys.memberPartition(id), prefix: memberPrefixes.lot }),
      orders: await queryAll(store, { index: true, pk: keys.memberOrdersIndex(id, 0).gsi1pk, newestFirst: true }),
      merges: await queryAll(store, { pk: keys.memberPartition(id), prefix: memberPrefixes.merge }),
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
      follows: m.h.f.map(([at, channel]) => ({ at, channel })),
      unfollows: m.h.u,
      qrScans: m.h.q.map(([at, channel]) => ({ at, channel })),
      codeScans: m.h.c.map(([at, channel]) => ({ at, channel })),
    },
    merges: flat('merges'),
  };
}
