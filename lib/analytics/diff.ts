/**
 * The differences report of a rebuild: the rebuilt table against the live one, by what a person
 * and a marketer see — members (matched by their identities, since member ids are minted anew),
 * orders (by platform, shop and order id) and the attribution counters (by channel, model and
 * local day, every shard summed). Fields that differ by construction between two tables (keys,
 * index attributes, versions, write times, member ids) are left out of the comparison.
 */
import type { Item, TableFacts } from '../store/snapshot.ts';

export interface FieldDifference {
  field: string;
  live: unknown;
  rebuilt: unknown;
}

export interface MemberDifference {
  /** The member's identities (`kind#value`), sorted: how the report names a person. */
  identities: string[];
  liveMemberId?: string;
  rebuiltMemberId?: string;
  /** Present in one table only, or the fields that differ. */
  change: 'only_live' | 'only_rebuilt' | 'changed';
  fields: FieldDifference[];
}

export interface OrderDifference {
  order: string;
  change: 'only_live' | 'only_rebuilt' | 'changed';
  fields: FieldDifference[];
}

export interface CounterDifference {
  channel: string;
  model: string;
  day: string;
  fields: FieldDifference[];
}

export interface DiffReport {
  members: MemberDifference[];
  orders: OrderDifference[];
  counters: CounterDifference[];
}

/** Attributes that differ between two tables holding the same facts. */
const NOT_COMPARED = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'memberId', 'mergedInto', 'version', 'createdAt', 'updatedAt', 'firstSeenAt', 'expiresAt']);

function fieldDiffs(live: Item, rebuilt: Item, mapped: Record<string, [unknown, unknown]> = {}): FieldDifference[] {
  const out: FieldDifference[] = [];
  const fields = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])].filter((f) => !NOT_COMPARED.has(f)).sort();
  for (const f of fields) {
    if (JSON.stringify(canonical(live[f])) !== JSON.stringify(canonical(rebuilt[f]))) out.push({ field: f, live: live[f], rebuilt: rebuilt[f] });
  }
  for (const [f, [a, b]] of Object.entries(mapped)) if (a !== b) out.push({ field: f, live: a, rebuilt: b });
  return out;
}

/** Objects with sorted keys, so two equal values print equal. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)]));
  return v;
}

/** memberId → the survivor it was merged into (itself when not merged). */
function survivorOf(facts: TableFacts, memberId: string): string {
  let id = memberId;
  for (let hops = 0; hops < 16; hops++) {
    const next = facts.members.get(id)?.mergedInto;
    if (typeof next !== 'string') return id;
    id = next;
  }
  return id;
}

/** survivor memberId → its sorted identities. */
function identitiesByMember(facts: TableFacts): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [ident, memberId] of facts.identities) {
    const id = survivorOf(facts, memberId);
    const list = out.get(id) ?? [];
    list.push(ident);
    out.set(id, list);
  }
  for (const list of out.values()) list.sort();
  return out;
}

export function diffTables(live: TableFacts, rebuilt: TableFacts): DiffReport {
  const liveIds = identitiesByMember(live);
  const rebuiltIds = identitiesByMember(rebuilt);
  const label = (ids: Map<string, string[]>, memberId: string | undefined) => (memberId ? (ids.get(memberId) ?? []).join(',') : '');

  // Members: a live survivor pairs with the rebuilt survivor holding its first identity.
  const members: MemberDifference[] = [];
  const paired = new Set<string>();
  for (const [liveId, idents] of liveIds) {
    const rebuiltId = idents.map((i) => rebuilt.identities.get(i)).find((m) => m !== undefined);
    const rid = rebuiltId ? survivorOf(rebuilt, rebuiltId) : undefined;
    if (!rid) {
      members.push({ identities: idents, liveMemberId: liveId, change: 'only_live', fields: [] });
      continue;
    }
    paired.add(rid);
    const fields = fieldDiffs(live.members.get(liveId) ?? {}, rebuilt.members.get(rid) ?? {}, { identities: [idents.join(','), label(rebuiltIds, rid)] });
    if (fields.length) members.push({ identities: idents, liveMemberId: liveId, rebuiltMemberId: rid, change: 'changed', fields });
  }
  for (const [rid, idents] of rebuiltIds) {
    if (!paired.has(rid)) members.push({ identities: idents, rebuiltMemberId: rid, change: 'only_rebuilt', fields: [] });
  }

  // Orders: by key; the member they belong to compared by identities.
  const orders: OrderDifference[] = [];
  for (const key of [...new Set([...live.orders.keys(), ...rebuilt.orders.keys()])].sort()) {
    const a = live.orders.get(key);
    const b = rebuilt.orders.get(key);
    if (!a || !b) {
      orders.push({ order: key, change: a ? 'only_live' : 'only_rebuilt', fields: [] });
      continue;
    }
    const memberOf = (facts: TableFacts, ids: Map<string, string[]>, item: Item) => label(ids, typeof item.memberId === 'string' ? survivorOf(facts, item.memberId) : undefined);
    const fields = fieldDiffs(a, b, { member: [memberOf(live, liveIds, a), memberOf(rebuilt, rebuiltIds, b)] });
    if (fields.length) orders.push({ order: key, change: 'changed', fields });
  }

  // Counters: channel-model-day sums.
  const counters: CounterDifference[] = [];
  for (const key of [...new Set([...live.counters.keys(), ...rebuilt.counters.keys()])].sort()) {
    const a = live.counters.get(key) ?? {};
    const b = rebuilt.counters.get(key) ?? {};
    const fields: FieldDifference[] = [];
    for (const f of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if ((a[f] ?? 0) !== (b[f] ?? 0)) fields.push({ field: f, live: a[f] ?? 0, rebuilt: b[f] ?? 0 });
    }
    if (fields.length) {
      const [channel, model, day] = key.split('#') as [string, string, string];
      counters.push({ channel, model, day, fields });
    }
  }
  return { members, orders, counters };
}

/** The report as text lines (scripts/rebuild.ts prints it). */
export function formatReport(r: DiffReport): string[] {
  const v = (x: unknown) => JSON.stringify(x);
  const lines = [`members: ${r.members.length} differ, orders: ${r.orders.length} differ, counters: ${r.counters.length} differ`];
  for (const m of r.members) {
    lines.push(`member ${m.liveMemberId ?? '-'} → ${m.rebuiltMemberId ?? '-'} [${m.identities.join(', ')}] ${m.change}`);
    for (const f of m.fields) lines.push(`  ${f.field}: ${v(f.live)} → ${v(f.rebuilt)}`);
  }
  for (const o of r.orders) {
    lines.push(`order ${o.order} ${o.change}`);
    for (const f of o.fields) lines.push(`  ${f.field}: ${v(f.live)} → ${v(f.rebuilt)}`);
  }
  for (const c of r.counters) {
    lines.push(`counter ${c.channel} ${c.model} ${c.day}`);
    for (const f of c.fields) lines.push(`  ${f.field}: ${v(f.live)} → ${v(f.rebuilt)}`);
  }
  return lines;
}
