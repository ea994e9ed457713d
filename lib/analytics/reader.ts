/**
 * Reads the local archive (lib/archive/file-sink.ts layout) back: the records of a stream whose
 * `dt` partition lies in [from, to) and whose source is one of `sources`, one per id (delivery
 * is at-least-once: a record written twice is kept once; for events the `applied` outcome wins
 * over a later `duplicate`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventRecord, RecordOf, RequestRecord } from '../archive/records.ts';
import type { ArchiveStream } from '../archive/streams.ts';

export interface ArchiveRange {
  /** First UTC day, YYYY-MM-DD (inclusive). */
  from: string;
  /** Last UTC day, YYYY-MM-DD (exclusive). */
  to: string;
  /** Sources to read; default all. */
  sources?: readonly string[];
}

async function dirs(path: string, prefix: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory() && d.name.startsWith(prefix)).map((d) => d.name.slice(prefix.length));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every record of a stream in the range, in file order (duplicates included). */
export async function readStream<S extends ArchiveStream>(dir: string, stream: S, range: ArchiveRange): Promise<RecordOf<S>[]> {
  const out: RecordOf<S>[] = [];
  const root = join(dir, stream);
  for (const source of (await dirs(root, 'source=')).sort()) {
    if (range.sources && !range.sources.includes(source)) continue;
    for (const dt of (await dirs(join(root, `source=${source}`), 'dt=')).sort()) {
      if (dt < range.from || dt >= range.to) continue;
      const folder = join(root, `source=${source}`, `dt=${dt}`);
      for (const file of (await readdir(folder)).filter((f) => f.endsWith('.ndjson')).sort()) {
        for (const line of (await readFile(join(folder, file), 'utf8')).split('\n')) {
          if (line.trim()) out.push(JSON.parse(line) as RecordOf<S>);
        }
      }
    }
  }
  return out;
}

/** One request record per id, in arrival order. */
export async function readRequests(dir: string, range: ArchiveRange): Promise<RequestRecord[]> {
  const byId = new Map<string, RequestRecord>();
  for (const r of await readStream(dir, 'requests', range)) if (!byId.has(r.id)) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => (a.received_at < b.received_at ? -1 : a.received_at > b.received_at ? 1 : 0));
}

/** One event record per eventId (its `applied` record when there is one), in the order applied. */
export async function readEvents(dir: string, range: ArchiveRange): Promise<EventRecord[]> {
  const byId = new Map<string, EventRecord>();
  for (const r of await readStream(dir, 'events', range)) {
    const seen = byId.get(r.event_id);
    if (!seen || (seen.status !== 'applied' && r.status === 'applied')) byId.set(r.event_id, r);
  }
  return [...byId.values()].sort((a, b) => (a.applied_at < b.applied_at ? -1 : a.applied_at > b.applied_at ? 1 : 0));
}

/** Epoch ms of an archive timestamp (`YYYY-MM-DD HH:MM:SS.mmm`, UTC). */
export const msOf = (ts: string): number => Date.parse(`${ts.replace(' ', 'T')}Z`);
