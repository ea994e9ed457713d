/**
 * The archive's AWS sink: Kinesis Data Firehose `PutRecordBatch` (Direct PUT), one delivery
 * stream per archive stream, each record one JSON line. Firehose buffers into S3 under
 * `<stream>/source=<source>/dt=<day>/` (dynamic partitioning on the record's own `source` and
 * `dt` fields, stacks/archive.ts). A batch holds at most 500 records and 4 MiB (the API's
 * limits); records Firehose reports failed (FailedPutCount, e.g. throttling) are sent again
 * twice, then the write rejects with ArchiveWriteError so the archive counts them
 * (lib/archive/archive.ts). Docs: Amazon Data Firehose API Reference, PutRecordBatch.
 */
import { FirehoseClient, PutRecordBatchCommand, type _Record } from '@aws-sdk/client-firehose';
import { ArchiveWriteError } from '../errors.ts';
import { makeClientConfig, type ClientOptions } from './client.ts';

/** PutRecordBatch limits: records per call and bytes per call (the API Reference). */
export const FIREHOSE_MAX_RECORDS = 500;
export const FIREHOSE_MAX_BYTES = 4 * 1024 * 1024;
/** One record's limit (1,000 KiB before base64). */
export const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;
const RETRIES = 2;

export function makeFirehose(options: ClientOptions = {}): FirehoseClient {
  return new FirehoseClient(makeClientConfig(options));
}

export interface FirehoseSink {
  readonly kind: 'firehose';
  write(stream: string, records: readonly object[]): Promise<void>;
}

/** A sink writing stream `s` to the delivery stream `deliveryStreams[s]`. */
export function firehoseSink(client: FirehoseClient, deliveryStreams: Readonly<Record<string, string>>): FirehoseSink {
  async function send(name: string, batch: _Record[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; pending.length; attempt++) {
      let out;
      try {
        out = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: pending }));
      } catch (err) {
        const code = (err as { name?: string }).name ?? '';
        throw new ArchiveWriteError(`PutRecordBatch to ${name} failed: ${code}`, /Throttl|ServiceUnavailable|LimitExceeded/.test(code) ? 'throttled' : 'error');
      }
      if (!out.FailedPutCount) return;
      const failed = pending.filter((_, i) => out.RequestResponses?.[i]?.ErrorCode);
      if (attempt >= RETRIES) {
        const codes = [...new Set(out.RequestResponses?.map((r) => r.ErrorCode).filter(Boolean))].join(', ');
        throw new ArchiveWriteError(`${failed.length} records not accepted by ${name}: ${codes}`, /ServiceUnavailable|Throttl/.test(codes) ? 'throttled' : 'error');
      }
      pending = failed;
    }
  }
  return {
    kind: 'firehose',
    async write(stream, records) {
      const name = deliveryStreams[stream];
      if (!name) throw new ArchiveWriteError(`no delivery stream for ${stream}`, 'error');
      let batch: _Record[] = [];
      let bytes = 0;
      for (const r of records) {
        const data = Buffer.from(`${JSON.stringify(r)}\n`, 'utf8');
        if (data.byteLength > FIREHOSE_MAX_RECORD_BYTES) throw new ArchiveWriteError(`a ${stream} record of ${data.byteLength} bytes exceeds Firehose's record limit`, 'error');
        if (batch.length === FIREHOSE_MAX_RECORDS || bytes + data.byteLength > FIREHOSE_MAX_BYTES) {
          await send(name, batch);
          batch = [];
          bytes = 0;
        }
        batch.push({ Data: data });
        bytes += data.byteLength;
      }
      if (batch.length) await send(name, batch);
    },
  };
}
