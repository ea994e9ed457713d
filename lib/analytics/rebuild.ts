/**
 * Rebuild (docs/architecture.md#archive): the archived raw requests of a date range go through
 * the CURRENT verification-free normalise of their source (reopen.ts) and `apply` into a fresh
 * table — the live one is only read — and the result is compared with the live table (diff.ts).
 *
 *   1. the target must be empty; the reference data marketing created (channels, code batches,
 *      the serial sequence) is copied into it from the live table;
 *   2. every archived request (one per id) is normalised again; a phone the archive masked
 *      (lib/archive/redact.ts) comes back as the HMAC identity its archived event carried;
 *   3. archived events no archived request accounts for (code scans, registrations, the TMC pull)
 *      are applied as they were archived;
 *   4. everything is applied in arrival order with the arrival time as apply's clock; planned
 *      messages are marked enqueued without being sent (they went out the first time);
 *   5. the differences report: members, orders, counters.
 *
 * Erasure tombstones (lib/archive/erase.ts) are honoured: a request or event holding an identifier
 * an erasure listed — whatever day the tombstone was written — is not applied, so a rebuild never
 * brings an erased person back.
 */
import { apply } from '../apply/apply.ts';
import type { HubConfig } from '../config/schema.ts';
import type { HubEvent, Identity } from '../events/hub-event.ts';
import { HubError } from '../errors.ts';
import type { ApplyDeps } from '../port.ts';
import type { Store } from '../store/client.ts';
import { foldAll } from '../attribution/fold.ts';
import { isEmptyTable, isReferenceItem, putItems, scanItems, tableFacts, type Item } from '../store/snapshot.ts';
import type { EventRecord } from '../archive/records.ts';
import { diffTables, type DiffReport } from './diff.ts';
import { readEvents, readRequests, readStream, msOf, type ArchiveRange } from './reader.ts';
import { TOMBSTONE_TYPE, tombstoneDigests, tombstoned } from '../archive/erase.ts';
import { isSourceId, REOPEN, type Reopen, type SourceId } from './reopen.ts';

export interface RebuildInput {
  archiveDir: string;
  range: ArchiveRange;
  live: Store;
  /** An existing, empty table (created from lib/store/table.ts). */
  target: Store;
  cfg: HubConfig;
  /** Per-source normalisers instead of the current ones (a candidate fix, tried before it ships). */
  reopen?: Partial<Record<SourceId, Reopen>>;
  log?: (line: string) => void;
}

export interface RebuildResult {
  requests: number;
  /** Requests the current normaliser refuses (400), with the reason. */
  refused: { id: string; source: string; code: string; message: string }[];
  /** Archived events applied as archived (no archived request produced them). */
  standalone: number;
  applied: number;
  duplicates: number;
  report: DiffReport;
}

interface Work {
  at: number;
  events: () => HubEvent[];
  id: string;
  source: string;
}

/** A discarding drainer: messages planned again are marked enqueued, never sent a second time. */
const NOT_SENT = async (): Promise<void> => undefined;
const DISCARDED_QUEUE = 'rebuild:not-sent';

export async function rebuild(input: RebuildInput): Promise<RebuildResult> {
  const log = input.log ?? (() => undefined);
  if (!(await isEmptyTable(input.target))) throw new Error(`table ${input.target.table} is not empty: a rebuild writes into a fresh table`);
  if (input.target.table === input.live.table) throw new Error('the rebuild target must not be the live table');

  const reference: Item[] = [];
  for await (const item of scanItems(input.live)) if (isReferenceItem(item)) reference.push(item);
  await putItems(input.target, reference);
  log(`copied ${reference.length} channel, batch and sequence items`);

  const erased = tombstoneDigests(await readStream(input.archiveDir, 'events', { from: '0000-00-00', to: '9999-99-99', sources: ['members'] }));
  const requests = (await readRequests(input.archiveDir, input.range)).filter((r) => !tombstoned(r, erased));
  const archived = (await readEvents(input.archiveDir, { from: input.range.from, to: nextDay(input.range.to) })).filter((e) => e.type !== TOMBSTONE_TYPE && !tombstoned(e, erased));
  if (erased.size) log(`honouring erasure tombstones: ${erased.size} identifier digests`);
  const byEventId = new Map(archived.map((e) => [e.event_id, e]));
  const reopen = { ...REOPEN, ...input.reopen };

  const work: Work[] = [];
  const fromRequests = new Set<string>();
  for (const r of requests) {
    r.event_ids.forEach((id) => fromRequests.add(id));
    if (!isSourceId(r.source)) continue;
    const fn = reopen[r.source];
    work.push({ at: msOf(r.received_at), id: r.id, source: r.source, events: () => fn(r, input.cfg).map((e) => withArchivedPhones(e, byEventId.get(e.eventId))) });
  }
  let standalone = 0;
  for (const e of archived) {
    if (fromRequests.has(e.event_id) || e.dt < input.range.from || e.dt >= input.range.to) continue;
    if (input.range.sources && !input.range.sources.includes(e.source)) continue;
    standalone++;
    work.push({ at: msOf(e.applied_at), id: e.event_id, source: e.source, events: () => [JSON.parse(e.event) as HubEvent] });
  }
  work.sort((a, b) => a.at - b.at);

  const cfg = { ...input.cfg, ENGAGEMENT_QUEUE_URL: DISCARDED_QUEUE, STAFF_QUEUE_URL: DISCARDED_QUEUE } as HubConfig;
  const result: RebuildResult = { requests: requests.length, refused: [], standalone, applied: 0, duplicates: 0, report: { members: [], orders: [], counters: [] } };
  for (const w of work) {
    const deps: ApplyDeps = { db: input.target.db, table: input.target.table, cfg, now: () => w.at, drainer: NOT_SENT };
    let events: HubEvent[];
    try {
      events = w.events();
    } catch (err) {
      if (!(err instanceof HubError) || err.status >= 500) throw err;
      result.refused.push({ id: w.id, source: w.source, code: err.code, message: err.message });
      continue;
    }
    for (const e of events) {
      try {
        const r = await apply(e, deps);
        if (r.status === 'applied') result.applied++;
        else result.duplicates++;
      } catch (err) {
        if (!(err instanceof HubError) || err.status >= 500) throw err;
        result.refused.push({ id: e.eventId, source: w.source, code: err.code, message: err.message });
      }
    }
  }
  log(`applied ${result.applied} events (${result.duplicates} duplicates, ${result.refused.length} refused) from ${requests.length} requests and ${standalone} archived events`);
  // Counters are folded from per-event deltas (lib/attribution/fold.ts): both tables are folded
  // first, so the comparison sees every credit (a fold is idempotent and safe beside a running one).
  for (const store of [input.target, input.live]) await foldAll({ store, cfg, now: Date.now });
  result.report = diffTables(await tableFacts(input.live), await tableFacts(input.target));
  return result;
}

/** The phone identities the archived event carried (HMAC) and the masked request body no longer does. */
function withArchivedPhones(event: HubEvent, archived: EventRecord | undefined): HubEvent {
  if (!archived || !('buyer' in event)) return event;
  const before = (JSON.parse(archived.event) as { buyer?: Identity[] }).buyer ?? [];
  const phones = before.filter((i) => i.kind === 'phone' && !event.buyer.some((b) => b.kind === 'phone' && b.value === i.value));
  return phones.length ? ({ ...event, buyer: [...event.buyer, ...phones] } as HubEvent) : event;
}

/** The day after a YYYY-MM-DD day (events may be archived just after their request's day ends). */
function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
