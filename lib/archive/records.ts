/**
 * The archive's records (columns in streams.ts): a webhook request whose signature held, and a
 * HubEvent with the outcome apply() gave it. Built here, from the hub's own types; written by an
 * Archive (archive.ts).
 */
import { createHash } from 'node:crypto';
import type { HubEvent } from '../events/hub-event.ts';
import type { ApplyResult } from '../port.ts';
import type { InboundRequest } from '../sources/types.ts';
import { redactPhones } from './redact.ts';
import { sqlTimestamp, utcDay, type ArchiveStream } from './streams.ts';

export interface RequestRecord {
  id: string;
  source: string;
  dt: string;
  received_at: string;
  account: string;
  method: string;
  query: string;
  headers: string;
  body: string;
  body_encoding: 'utf8' | 'base64';
  event_ids: string[];
  outcome: string;
}

export interface LineRecord {
  sku: string | null;
  quantity: number;
  paid_fen: number | null;
}

export interface EventRecord {
  event_id: string;
  source: string;
  dt: string;
  type: string;
  status: 'applied' | 'duplicate';
  member_id: string | null;
  occurred_at: string;
  applied_at: string;
  app_id: string | null;
  openid: string | null;
  channel: string | null;
  platform: string | null;
  shop_id: string | null;
  order_id: string | null;
  order_status: string | null;
  total_fen: number | null;
  paid_fen: number | null;
  refund_id: string | null;
  refund_status: string | null;
  refund_fen: number | null;
  lines: LineRecord[];
  skus: string[];
  code_batch: string | null;
  event: string;
}

export type ArchiveRecord = { stream: 'requests'; record: RequestRecord } | { stream: 'events'; record: EventRecord };
export type RecordOf<S extends ArchiveStream> = Extract<ArchiveRecord, { stream: S }>['record'];

/** Headers that never go into the archive (credentials of other doors, tracing noise). */
const DROPPED_HEADERS = new Set(['authorization', 'cookie', 'x-amzn-trace-id', 'x-forwarded-for', 'forwarded', 'x-real-ip']);

const utf8 = new TextDecoder('utf-8', { fatal: true });
function bodyText(body: Buffer): { text: string; encoding: 'utf8' | 'base64' } {
  try {
    return { text: utf8.decode(body), encoding: 'utf8' };
  } catch {
    return { text: body.toString('base64'), encoding: 'base64' };
  }
}

const sorted = (o: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(o)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );

/**
 * The archived form of a verified request. Its id digests the bytes as received (before phone
 * redaction), so a platform's identical retry has the same id and readers keep one.
 */
export function requestRecord(source: string, req: InboundRequest, eventIds: readonly string[], outcome: string): RequestRecord {
  const query = sorted(req.query);
  const headers = sorted(Object.fromEntries(Object.entries(req.headers).filter(([k]) => !DROPPED_HEADERS.has(k.toLowerCase()))));
  const id = createHash('sha256').update(JSON.stringify([source, req.account, req.method, query])).update('\n').update(req.body).digest('hex');
  const { text, encoding } = bodyText(req.body);
  return {
    id,
    source,
    dt: utcDay(req.receivedAt),
    received_at: sqlTimestamp(req.receivedAt),
    account: req.account,
    method: req.method,
    query: redactPhones(JSON.stringify(query)),
    headers: redactPhones(JSON.stringify(headers)),
    body: encoding === 'utf8' ? redactPhones(text) : text,
    body_encoding: encoding,
    event_ids: [...eventIds],
    outcome,
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** The archived form of an event apply() answered for. */
export function eventRecord(event: HubEvent, result: Pick<ApplyResult, 'status' | 'memberId' | 'result'>, appliedAt: number): EventRecord {
  const e = event as Record<string, unknown>;
  const scene = 'scene' in event ? event.scene : undefined;
  const lines = event.type === 'order' ? event.lines.map((l) => ({ sku: l.sku ?? null, quantity: l.quantity, paid_fen: l.paidFen })) : [];
  const resultChannel = str(result.result?.channel);
  return {
    event_id: event.eventId,
    source: event.source,
    dt: utcDay(appliedAt),
    type: event.type,
    status: result.status,
    member_id: result.memberId ?? null,
    occurred_at: sqlTimestamp(event.occurredAt),
    applied_at: sqlTimestamp(appliedAt),
    app_id: str(e.appId),
    openid: str(e.openid),
    channel: event.type === 'wechat.follow' || event.type === 'wechat.scan' ? (scene ?? 'organic') : resultChannel,
    platform: str(e.platform),
    shop_id: str(e.shopId),
    order_id: str(e.orderId),
    order_status: event.type === 'order' ? event.status : null,
    total_fen: num(e.totalFen),
    paid_fen: num(e.paidFen),
    refund_id: str(e.refundId),
    refund_status: event.type === 'refund' ? event.status : null,
    refund_fen: num(e.refundFen),
    lines,
    skus: [...new Set(lines.flatMap((l) => (l.sku ? [l.sku] : [])))],
    code_batch: str(e.batchId),
    event: JSON.stringify(event),
  };
}
