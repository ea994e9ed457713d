/**
 * The archive port (docs/architecture.md#archive): where the webhook runtime hands the requests
 * whose signature held and apply() hands the events it answered for. `put` never throws and never
 * waits: records are buffered and written in batches (one write per stream per tick of the event
 * loop) by a sink — a local file writer (file-sink.ts) or Kinesis Data Firehose
 * (lib/store/firehose.ts). A failed write is counted in ArchiveFailures (lib/metrics.ts) by
 * stream and reason and logged without its content; it never reaches the caller, so the
 * platform's answer is the same with or without an archive. Delivery is at-least-once (a
 * platform's retry is archived again): readers keep one record per id (rebuild.ts, the SQL views).
 */
import { ArchiveWriteError } from '../errors.ts';
import { logger } from '../log.ts';
import type { MetricsSink } from '../metrics.ts';
import type { HubEvent } from '../events/hub-event.ts';
import type { ApplyResult, EventArchive } from '../port.ts';
import type { InboundRequest } from '../sources/types.ts';
import { eventRecord, requestRecord, type ArchiveRecord, type RecordOf } from './records.ts';
import { tombstoneRecord } from './erase.ts';
import { ARCHIVE_STREAM_NAMES, type ArchiveStream } from './streams.ts';

/** Where records go; a failed write rejects (ArchiveWriteError names the reason). */
export interface ArchiveSink {
  readonly kind: string;
  write<S extends ArchiveStream>(stream: S, records: readonly RecordOf<S>[]): Promise<void>;
  /** Removes the records whose line `match` accepts, where the sink can rewrite what it wrote (local files); the number removed. */
  erase?(match: (line: string) => boolean): Promise<number>;
}

export interface Archive {
  /** Hands a record over: buffered, never throws, never waits. */
  put(entry: ArchiveRecord): void;
  /** Resolves when what was handed over so far is written or has failed, or after `maxWaitMs`; never rejects. */
  flush(maxWaitMs?: number): Promise<void>;
  /** Writes what is buffered, then removes the records `match` accepts where the sink can (absent: it cannot). */
  erase?(match: (line: string) => boolean): Promise<number>;
}

/** The archive of a runtime without one (benchmarks, unit tests): records are dropped. */
export const noArchive: Archive = { put: () => undefined, flush: async () => undefined };

export interface BufferedArchiveOptions {
  /** Records per sink write (Firehose PutRecordBatch takes at most 500). */
  maxBatch?: number;
  metrics?: MetricsSink;
}

const reasonOf = (err: unknown): 'disk_full' | 'throttled' | 'error' => {
  if (err instanceof ArchiveWriteError) return err.reason;
  const code = (err as { code?: unknown; name?: unknown } | undefined)?.code ?? (err as { name?: unknown } | undefined)?.name;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (typeof code === 'string' && /Throttl|ServiceUnavailable|LimitExceeded/.test(code)) return 'throttled';
  return 'error';
};

export class BufferedArchive implements Archive {
  readonly #sink: ArchiveSink;
  readonly #maxBatch: number;
  readonly #metrics: MetricsSink | undefined;
  readonly #buffers: { [S in ArchiveStream]: RecordOf<S>[] } = { requests: [], events: [] };
  readonly #inflight = new Set<Promise<void>>();
  #scheduled = false;

  constructor(sink: ArchiveSink, opts: BufferedArchiveOptions = {}) {
    this.#sink = sink;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#metrics = opts.metrics;
  }

  put(entry: ArchiveRecord): void {
    try {
      (this.#buffers[entry.stream] as ArchiveRecord['record'][]).push(entry.record);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#drain());
      }
    } catch (err) {
      this.#failed(entry.stream, 1, err);
    }
  }

  async flush(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.#drain();
    const all = Promise.allSettled([...this.#inflight]).then(() => undefined);
    if (!Number.isFinite(maxWaitMs)) return all;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, maxWaitMs));
    });
    await Promise.race([all, cap]);
    clearTimeout(timer);
  }

  async erase(match: (line: string) => boolean): Promise<number> {
    await this.flush();
    return this.#sink.erase ? this.#sink.erase(match) : 0;
  }

  #drain(): void {
    this.#scheduled = false;
    for (const stream of ARCHIVE_STREAM_NAMES) {
      const buffer = this.#buffers[stream];
      while (buffer.length) this.#write(stream, buffer.splice(0, this.#maxBatch));
    }
  }

  #write<S extends ArchiveStream>(stream: S, records: RecordOf<S>[]): void {
    let p: Promise<void>;
    try {
      p = this.#sink.write(stream, records).catch((err: unknown) => this.#failed(stream, records.length, err));
    } catch (err) {
      this.#failed(stream, records.length, err);
      return;
    }
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  #failed(stream: ArchiveStream, count: number, err: unknown): void {
    const reason = reasonOf(err);
    this.#metrics?.add('ArchiveFailures', { stream, reason }, count);
    logger.warn('archive write failed; the request was answered as usual', { stream, reason, records: count, sink: this.#sink.kind, error: (err as Error)?.message });
  }
}

/**
 * What the hub hands the archive: a verified webhook request (lib/runtime/webhook.ts) and an
 * event apply() answered for (lib/apply/apply.ts, through ApplyDeps.archive). Building a record
 * cannot fail the caller either: an exception there is counted like a failed write.
 */
export class HubArchive implements EventArchive {
  constructor(
    readonly target: Archive,
    readonly metrics?: MetricsSink,
  ) {}

  request(source: string, req: InboundRequest, eventIds: readonly string[], outcome: string): void {
    this.#put('requests', () => ({ stream: 'requests', record: requestRecord(source, req, eventIds, outcome) }));
  }

  applied(event: HubEvent, result: Pick<ApplyResult, 'status' | 'memberId' | 'result'>, at: number): void {
    this.#put('events', () => ({ stream: 'events', record: eventRecord(event, result, at) }));
  }

  flush(maxWaitMs?: number): Promise<void> {
    return this.target.flush(maxWaitMs);
  }

  /**
   * An erasure (lib/archive/erase.ts): the tombstone of the person's identifiers goes into the
   * events stream and is written; then the records holding them are removed where the archive
   * can be rewritten. Unlike `put`, a failure here rejects: the erasure step is retried.
   */
  async erase(memberId: string, tokens: readonly string[], match: (line: string) => boolean, at: number): Promise<number> {
    this.target.put({ stream: 'events', record: tombstoneRecord(memberId, tokens, at) });
    return this.target.erase ? this.target.erase(match) : (await this.target.flush(), 0);
  }

  #put(stream: ArchiveStream, build: () => ArchiveRecord): void {
    try {
      this.target.put(build());
    } catch (err) {
      this.metrics?.add('ArchiveFailures', { stream, reason: 'error' });
      logger.warn('archive record not built; the request was answered as usual', { stream, error: (err as Error).message });
    }
  }
}
