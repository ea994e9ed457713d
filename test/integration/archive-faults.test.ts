/**
 * An archive failure never changes a webhook's answer and is counted in ArchiveFailures
 * (lib/metrics.ts). The faults wrap the real writers: the real `appendFile` failing with ENOSPC
 * (a full disk), and the real Firehose client (AWS SDK v3) throttled by a middleware throwing
 * ServiceUnavailableException — Firehose's throttling answer to PutRecordBatch — against a
 * Firehose stand-in speaking the service's JSON protocol.
 */
import * as fsp from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { MemoryMetrics } from '../support/metrics.ts';
import { identityOwner } from '../support/table.ts';
import { configuredAccount, postPush, signedPush } from '../support/wechat-client.ts';
import { startFirehoseStandin, type FirehoseStandin } from '../support/firehose-standin.ts';
import { LOCAL_AWS } from '../../local/emulators.ts';
import { BufferedArchive } from '../../lib/archive/archive.ts';
import { fileSink } from '../../lib/archive/file-sink.ts';
import { firehoseSink, makeFirehose } from '../../lib/store/firehose.ts';
import { readEvents, readRequests } from '../../lib/analytics/reader.ts';

const hub = useTestHub({ queuePrefix: 'arcf', functions: ['wechat'] });
const account = () => configuredAccount();
let standin: FirehoseStandin;
beforeAll(async () => {
  standin = await startFirehoseStandin(['hub-requests', 'hub-events']);
});
afterAll(async () => standin?.close());

let n = 0;
/** A fresh follow (its own openid), signed as WeChat sends it. */
async function follow(): Promise<{ openid: string; status: number; body: string }> {
  const openid = `oArchiveFault${Date.now()}${n++}`;
  const res = await postPush(hub.url, signedPush({ from: openid, createTime: Math.floor(Date.now() / 1000), msgType: 'event', event: 'subscribe', eventKey: '' }, account(), 'safe'));
  return { openid, ...res };
}
const memberOf = (openid: string) => identityOwner(hub.aws.table, 'wechat_openid', `${account().appId}:${openid}`);
const today = () => ({ from: new Date().toISOString().slice(0, 10), to: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) });

describe('archive faults', () => {
  it('a full disk: the follow is answered `success` and applied as without it, and counted by stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-archive-fault-'));
    const metrics = new MemoryMetrics();
    let full = false;
    const ops = {
      mkdir: fsp.mkdir,
      appendFile: async (path: string, data: string) => {
        if (full) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
        return fsp.appendFile(path, data);
      },
    };
    const before = hub.runtime;
    hub.reconfigure({ archive: new BufferedArchive(fileSink(dir, ops), { metrics }), metrics });
    try {
      const healthy = await follow();
      await hub.runtime.archive.flush();
      full = true;
      const faulty = await follow();
      await hub.runtime.archive.flush();

      expect({ status: faulty.status, body: faulty.body }).toEqual({ status: healthy.status, body: healthy.body });
      expect(faulty).toMatchObject({ status: 200, body: 'success' });
      expect(await memberOf(faulty.openid)).toBeDefined();
      const failures = metrics.of('ArchiveFailures');
      expect(failures.map((f) => f.dims).sort((a, b) => (a.stream! < b.stream! ? -1 : 1))).toEqual([
        { stream: 'events', reason: 'disk_full' },
        { stream: 'requests', reason: 'disk_full' },
      ]);
      expect(failures.every((f) => f.value === 1)).toBe(true);
      // The healthy request is archived; the one of the full disk is not.
      const requests = await readRequests(dir, today());
      expect(requests.map((r) => r.query.includes(healthy.openid))).toEqual([true]);
      expect((await readEvents(dir, today())).length).toBe(1);
    } finally {
      hub.restore(before);
    }
  });

  it('Firehose throttled: the follow is answered `success`, counted as throttled; once it recovers the records arrive', async () => {
    const client = makeFirehose({ endpoint: standin.url, ...LOCAL_AWS, maxAttempts: 1 });
    let throttled = true;
    client.middlewareStack.add(
      (next) => async (args) => {
        if (throttled) throw new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } });
        return next(args);
      },
      { step: 'initialize', name: 'testThrottle' },
    );
    const metrics = new MemoryMetrics();
    const before = hub.runtime;
    hub.reconfigure({ archive: new BufferedArchive(firehoseSink(client, { requests: 'hub-requests', events: 'hub-events' }), { metrics }), metrics });
    try {
      const faulty = await follow();
      await hub.runtime.archive.flush();
      expect(faulty).toMatchObject({ status: 200, body: 'success' });
      expect(await memberOf(faulty.openid)).toBeDefined();
      expect(metrics.of('ArchiveFailures').map((f) => f.dims).sort((a, b) => (a.stream! < b.stream! ? -1 : 1))).toEqual([
        { stream: 'events', reason: 'throttled' },
        { stream: 'requests', reason: 'throttled' },
      ]);
      expect(standin.records.get('hub-requests')).toEqual([]);

      throttled = false;
      const healthy = await follow();
      await hub.runtime.archive.flush();
      expect(healthy).toMatchObject({ status: 200, body: 'success' });
      const requests = standin.records.get('hub-requests')!.map((l) => JSON.parse(l) as { source: string; query: string });
      expect(requests).toHaveLength(1);
      expect(requests[0]!.source).toBe('wechat');
      expect(requests[0]!.query).toContain(healthy.openid);
      const events = standin.records.get('hub-events')!.map((l) => JSON.parse(l) as { type: string; status: string; openid: string });
      expect(events).toEqual([expect.objectContaining({ type: 'wechat.follow', status: 'applied', openid: healthy.openid })]);
      expect(metrics.of('ArchiveFailures')).toHaveLength(2);
    } finally {
      hub.restore(before);
      client.destroy();
    }
  });
});
