/**
 * The archive's pure parts: phone masking in request bodies (hand-written vectors: JSON, Youzan's
 * URL-encoded msg, XML, +86 prefix; ids that merely contain phone-like digits stay intact), and
 * the buffered archive (one sink write per stream per tick, failures counted by reason, never
 * thrown to the caller).
 */
import { describe, expect, it } from 'vitest';
import { redactPhones } from '../../lib/archive/redact.ts';
import { BufferedArchive, type ArchiveSink } from '../../lib/archive/archive.ts';
import type { ArchiveRecord } from '../../lib/archive/records.ts';
import { ArchiveWriteError } from '../../lib/errors.ts';
import { MemoryMetrics } from '../support/metrics.ts';

describe('redactPhones', () => {
  it.each([
    ['{"buyer_phone":"13800138000"}', '{"buyer_phone":"138****8000"}'],
    ['{"receiver_mobile": "+8613912345678"}', '{"receiver_mobile": "+139****5678"}'],
    ['msg=%7B%22buyer_phone%22%3A%2215012345678%22%7D', 'msg=%7B%22buyer_phone%22%3A%22150****5678%22%7D'],
    ['<Tel>18612345678</Tel>', '<Tel>186****5678</Tel>'],
    ['{"tid":"E20261102138001380001","oid":"13800138000123"}', '{"tid":"E20261102138001380001","oid":"13800138000123"}'],
    ['{"buyer_phone":"12345678901"}', '{"buyer_phone":"12345678901"}'],
  ])('%s', (input, expected) => {
    expect(redactPhones(input)).toBe(expected);
  });
});

const record = (n: number): ArchiveRecord => ({ stream: 'events', record: { event_id: `e${n}`, source: 'wechat', dt: '2026-12-03' } as never });

describe('BufferedArchive', () => {
  it('writes what one tick handed over in one batch per stream, in order', async () => {
    const writes: { stream: string; ids: string[] }[] = [];
    const sink: ArchiveSink = { kind: 'memory', write: async (stream, records) => void writes.push({ stream, ids: records.map((r) => (r as { event_id: string }).event_id) }) };
    const archive = new BufferedArchive(sink, { maxBatch: 2 });
    for (const n of [1, 2, 3]) archive.put(record(n));
    await archive.flush();
    expect(writes).toEqual([
      { stream: 'events', ids: ['e1', 'e2'] },
      { stream: 'events', ids: ['e3'] },
    ]);
  });

  it('counts a failed write by stream and reason and never throws', async () => {
    const metrics = new MemoryMetrics();
    const reasons: unknown[] = [Object.assign(new Error('no space'), { code: 'ENOSPC' }), new ArchiveWriteError('slow down', 'throttled'), new Error('boom')];
    const sink: ArchiveSink = {
      kind: 'failing',
      write: async () => {
        throw reasons.shift();
      },
    };
    const archive = new BufferedArchive(sink, { metrics });
    for (const n of [1, 2, 3]) {
      expect(() => archive.put(record(n))).not.toThrow();
      await archive.flush();
    }
    expect(metrics.of('ArchiveFailures').map((m) => [m.dims.reason, m.value])).toEqual([
      ['disk_full', 1],
      ['throttled', 1],
      ['error', 1],
    ]);
  });
});
