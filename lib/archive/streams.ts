/**
 * The two archive streams and their columns, defined once: the local DuckDB views
 * (lib/archive/sql.ts) and the Glue tables of the stack (stacks/archive.ts) are both generated
 * from this list, so a query written against the local archive runs on Athena unchanged.
 *
 *   requests   every webhook request whose signature held (raw body, query, headers, the
 *              eventIds it produced), written by lib/runtime/webhook.ts
 *   events     every HubEvent apply() committed or recognised as a duplicate, with its outcome,
 *              written by lib/apply/apply.ts
 *
 * Both are newline-delimited JSON partitioned by `source` and `dt` (the UTC day the record was
 * written): `<stream>/source=<source>/dt=<YYYY-MM-DD>/<file>`. Timestamps are UTC text
 * `YYYY-MM-DD HH:MM:SS.mmm`, which the Athena JSON SerDe and DuckDB both read as TIMESTAMP.
 */

import { SOURCES } from '../manifest.ts';

/**
 * Every value of the `source` partition: the webhook sources of lib/manifest.ts and the event
 * sources without a webhook (code scans, member registrations). The Glue tables project them.
 */
export const ARCHIVE_SOURCES: readonly string[] = [...SOURCES.map((s) => s.id), 'codes', 'members'];

/** A column type, in the Glue (Hive DDL) spelling; the DuckDB spelling is derived. */
export type ColumnType = 'string' | 'bigint' | 'int' | 'timestamp' | 'array<string>' | 'array<struct<sku:string,quantity:int,paid_fen:bigint>>';

export interface Column {
  name: string;
  type: ColumnType;
  comment: string;
}

export const ARCHIVE_STREAM_NAMES = ['requests', 'events'] as const;
export type ArchiveStream = (typeof ARCHIVE_STREAM_NAMES)[number];

/** Partition columns of both streams, in path order. */
export const PARTITION_KEYS: readonly Column[] = [
  { name: 'source', type: 'string', comment: 'the webhook source or event source (wechat, tmall, jd, youzan, codes, members)' },
  { name: 'dt', type: 'string', comment: 'UTC day the record was written, YYYY-MM-DD' },
];

export const STREAM_COLUMNS: Record<ArchiveStream, readonly Column[]> = {
  requests: [
    { name: 'id', type: 'string', comment: 'sha256 of source, account, method, query and body: a redelivery of the same bytes has the same id' },
    { name: 'received_at', type: 'timestamp', comment: 'server clock at arrival (UTC)' },
    { name: 'account', type: 'string', comment: 'the route parameter naming the account (appId, appKey, clientId)' },
    { name: 'method', type: 'string', comment: 'POST' },
    { name: 'query', type: 'string', comment: 'the query string parameters as a JSON object' },
    { name: 'headers', type: 'string', comment: 'the request headers the verification and normalisation read, as a JSON object' },
    { name: 'body', type: 'string', comment: 'the body as received (base64 when body_encoding is base64), phone numbers replaced by their HMAC' },
    { name: 'body_encoding', type: 'string', comment: 'utf8 or base64' },
    { name: 'event_ids', type: 'array<string>', comment: 'eventIds the request produced' },
    { name: 'outcome', type: 'string', comment: 'answered, or the error code the request was answered with after its signature held' },
  ],
  events: [
    { name: 'event_id', type: 'string', comment: 'the HubEvent eventId (deduplicate on it)' },
    { name: 'type', type: 'string', comment: 'wechat.follow, order, refund, code.scan, …' },
    { name: 'status', type: 'string', comment: 'applied or duplicate' },
    { name: 'member_id', type: 'string', comment: 'the member the event resolved to' },
    { name: 'occurred_at', type: 'timestamp', comment: 'when it happened on the platform (UTC)' },
    { name: 'applied_at', type: 'timestamp', comment: 'when apply() answered (UTC)' },
    { name: 'app_id', type: 'string', comment: 'WeChat appId (WeChat and member events)' },
    { name: 'openid', type: 'string', comment: 'WeChat openid (WeChat, member and scan events)' },
    { name: 'channel', type: 'string', comment: 'the scene channel of a follow or QR scan (organic when none)' },
    { name: 'platform', type: 'string', comment: 'commerce platform of an order or refund' },
    { name: 'shop_id', type: 'string', comment: 'shop of an order or refund' },
    { name: 'order_id', type: 'string', comment: 'order of an order or refund event' },
    { name: 'order_status', type: 'string', comment: 'normalised order status (created, paid, shipped, completed, closed, refunded)' },
    { name: 'total_fen', type: 'bigint', comment: 'order total in fen' },
    { name: 'paid_fen', type: 'bigint', comment: 'amount paid in fen (0 until paid)' },
    { name: 'refund_id', type: 'string', comment: 'refund id of a refund event' },
    { name: 'refund_status', type: 'string', comment: 'requested, succeeded or closed' },
    { name: 'refund_fen', type: 'bigint', comment: 'refund amount in fen' },
    { name: 'lines', type: 'array<struct<sku:string,quantity:int,paid_fen:bigint>>', comment: 'order lines' },
    { name: 'skus', type: 'array<string>', comment: 'the distinct SKUs of the order lines (UNNEST(skus) AS t(sku) reads the same on Athena and DuckDB)' },
    { name: 'code_batch', type: 'string', comment: 'code batch of a product-code scan' },
    { name: 'event', type: 'string', comment: 'the whole HubEvent as JSON (phones only as their HMAC, as in the table)' },
  ],
};

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  timestamp: 'TIMESTAMP',
  'array<string>': 'VARCHAR[]',
  'array<struct<sku:string,quantity:int,paid_fen:bigint>>': 'STRUCT(sku VARCHAR, quantity INTEGER, paid_fen BIGINT)[]',
};

/** The DuckDB type of a column (read_json `columns`). */
export const duckdbType = (t: ColumnType): string => DUCKDB_TYPES[t];

/** `2026-11-05 08:30:00.000`: UTC, the text both engines read as TIMESTAMP. */
export function sqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The UTC day partition of an instant. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
