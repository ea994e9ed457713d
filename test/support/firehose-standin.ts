/**
 * A Kinesis Data Firehose stand-in for the archive tests (Firehose cannot run here): an HTTP
 * server speaking the service's JSON 1.1 protocol for `Firehose_20150804.PutRecordBatch`, the one
 * call the hub makes (lib/store/firehose.ts). It keeps the decoded records per delivery stream;
 * an unknown stream answers ResourceNotFoundException as Firehose does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FirehoseStandin {
  url: string;
  /** Delivery stream → the records' data, decoded (one JSON line each). */
  records: Map<string, string[]>;
  close(): Promise<void>;
}

const body = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

export async function startFirehoseStandin(streams: readonly string[]): Promise<FirehoseStandin> {
  const records = new Map<string, string[]>(streams.map((s) => [s, []]));
  const server = createServer((req, res) => {
    void body(req).then((text) => {
      const answer = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      if (req.headers['x-amz-target'] !== 'Firehose_20150804.PutRecordBatch') return answer(400, { __type: 'InvalidArgumentException', message: 'unsupported operation' });
      const input = JSON.parse(text) as { DeliveryStreamName: string; Records: { Data: string }[] };
      const kept = records.get(input.DeliveryStreamName);
      if (!kept) return answer(400, { __type: 'ResourceNotFoundException', message: `Firehose ${input.DeliveryStreamName} not found.` });
      for (const r of input.Records) kept.push(Buffer.from(r.Data, 'base64').toString('utf8'));
      answer(200, { FailedPutCount: 0, Encrypted: false, RequestResponses: input.Records.map(() => ({ RecordId: randomUUID() })) });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
