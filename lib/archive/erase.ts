/**
 * Erasure in the archive (docs/privacy.md#erasure). The archive keeps what arrived, so an erased
 * person's records are dealt with in two ways:
 *
 *   - a tombstone: an `events` record of type `member.erased` (source `members`) listing the
 *     SHA-256 digests of the person's identifiers, never the identifiers; readers drop every
 *     record one of whose id-like fields has a listed digest (`tombstoned`, rebuild.ts honours it);
 *   - where the archive can be rewritten (the local files, file-sink.ts) the person's records are
 *     removed outright (`eraseLines`). Firehose's S3 objects are not rewritten: the tombstone
 *     holds them back from every reader until the bucket's lifecycle deletes them
 *     (stacks/archive.ts, `archive.retentionDays`).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventRecord, RequestRecord } from './records.ts';
import { sqlTimestamp, utcDay } from './streams.ts';
import { MIN_TOKEN_LENGTH } from '../privacy/tokens.ts';

export const TOMBSTONE_TYPE = 'member.erased';
const TOMBSTONE_SOURCE = 'members';

export const digestOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** The tombstone of one erasure: digests only; its id is a digest of the member id (one per erasure). */
export function tombstoneRecord(memberId: string, tokens: readonly string[], at: number): EventRecord {
  const digests = [...new Set(tokens.filter((t) => t.length >= MIN_TOKEN_LENGTH).map(digestOf))].sort();
  return {
    event_id: `erased:${digestOf(`member:${memberId}`)}`,
    source: TOMBSTONE_SOURCE,
    dt: utcDay(at),
    type: TOMBSTONE_TYPE,
    status: 'applied',
    member_id: null,
    occurred_at: sqlTimestamp(at),
    applied_at: sqlTimestamp(at),
    app_id: null,
    openid: null,
    channel: null,
    platform: null,
    shop_id: null,
    order_id: null,
    order_status: null,
    total_fen: null,
    paid_fen: null,
    refund_id: null,
    refund_status: null,
    refund_fen: null,
    lines: [],
    skus: [],
    code_batch: null,
    event: JSON.stringify({ type: TOMBSTONE_TYPE, digests }),
  };
}

/** The digests of every tombstone among `records`. */
export function tombstoneDigests(records: readonly EventRecord[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    if (r.type !== TOMBSTONE_TYPE) continue;
    const parsed = JSON.parse(r.event) as { digests?: unknown };
    if (Array.isArray(parsed.digests)) for (const d of parsed.digests) if (typeof d === 'string') out.add(d);
  }
  return out;
}

/** Whether an archived record holds an identifier a tombstone lists: any id-like field of its text. */
export function tombstoned(record: EventRecord | RequestRecord, digests: ReadonlySet<string>): boolean {
  if (!digests.size) return false;
  if ('type' in record && record.type === TOMBSTONE_TYPE) return false;
  const text = 'event' in record ? `${record.member_id ?? ''} ${record.openid ?? ''} ${record.event}` : `${record.query} ${record.body}`;
  for (const field of text.split(/[^A-Za-z0-9_-]+/)) if (field.length >= MIN_TOKEN_LENGTH && digests.has(digestOf(field))) return true;
  return false;
}

/**
 * Removes every line `match` accepts from the local archive under `dir` (both streams, every
 * partition): each changed file is written anew beside the old one and renamed over it, so a
 * reader never sees half a file. Returns the number of lines removed.
 */
export async function eraseLines(dir: string, match: (line: string) => boolean): Promise<number> {
  let removed = 0;
  for (const file of await ndjsonFiles(dir)) {
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    const kept = lines.filter((l) => !(l.trim() && match(l)));
    if (kept.length === lines.length) continue;
    removed += lines.length - kept.length;
    const tmp = `${file}.erasing`;
    await writeFile(tmp, kept.join('\n'));
    await rename(tmp, file);
  }
  return removed;
}

async function ndjsonFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ndjson')).map((e) => join(e.parentPath, e.name));
}
