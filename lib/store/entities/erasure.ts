/**
 * Erasure jobs: `ERASE#<memberId> | #`, the state of one erasure (lib/privacy/erase.ts): which
 * step it is at and, inside the table sweep, the Scan cursor; re-run until `done`. While it runs
 * it carries the index entry `gsi1pk = ERASING`, `gsi1sk = <requestedAt>#<memberId>` (sparse: the
 * runner's bounded lookup) and the person's identifiers it is erasing (`tokens`, needed to find
 * their items again after an interruption); finishing removes both, so a done job holds the
 * member id, when, who asked and why, and counts — nothing else about the person.
 *
 * Every save is conditional on the `version` read, so two runners never interleave their steps.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from '../client.ts';
import { isConditionFailed } from '../errors.ts';
import { pad, parseRootKey, ROOT, type Key } from '../keys.ts';
import { queryPage, stripKeys } from '../item-ops.ts';

const PREFIX = 'ERASE';
const RUNNING = 'ERASING';

export const erasureKey = (memberId: string): Key => ({ pk: `${PREFIX}#${memberId}`, sk: ROOT });
export function parseErasureKey(k: Key): { memberId: string } {
  return { memberId: parseRootKey(k, PREFIX, 'erasure job') };
}

export interface ErasureCounts {
  deleted: number;
  anonymised: number;
  rekeyed: number;
  archiveRecords: number;
}

export interface ErasureJob {
  memberId: string;
  status: 'running' | 'done';
  /** Index of the next step (lib/privacy/erase.ts STEPS). */
  step: number;
  /** The table sweep's Scan position (its LastEvaluatedKey), while the sweep runs. */
  cursor?: Record<string, unknown>;
  requestedAt: number;
  /** `member` (DELETE /me), `admin:<subject>` (POST /members/{id}/erase), `retention` (unfollowed fan). */
  requestedBy: string;
  reason: string;
  /** While running: the member ids of the person (the record and those merged into it). */
  memberIds?: string[];
  /** While running: the identifier values being erased (openids, unionid, phone HMAC, buyer ids, member ids). */
  tokens?: string[];
  counts: ErasureCounts;
  /** Runs that worked on it (a resumed erasure has more than one). */
  runs: number;
  completedAt?: number;
  version: number;
}

const runningIndex = (requestedAt: number, memberId: string) => ({ gsi1pk: RUNNING, gsi1sk: `${pad(requestedAt)}#${memberId}` });

export const erasures = {
  async get(s: Store, memberId: string): Promise<ErasureJob | undefined> {
    const out = await s.db.send(new GetCommand({ TableName: s.table, Key: erasureKey(memberId), ConsistentRead: true }));
    return out.Item ? (stripKeys(out.Item) as unknown as ErasureJob) : undefined;
  },

  /** Creates the job unless one exists; answers the job as stored (the existing one on a repeat). */
  async request(s: Store, job: Omit<ErasureJob, 'status' | 'step' | 'counts' | 'runs' | 'version'>): Promise<{ job: ErasureJob; created: boolean }> {
    const fresh: ErasureJob = { ...job, status: 'running', step: 0, counts: { deleted: 0, anonymised: 0, rekeyed: 0, archiveRecords: 0 }, runs: 0, version: 1 };
    try {
      await s.db.send(
        new PutCommand({
          TableName: s.table,
          Item: { ...erasureKey(job.memberId), ...fresh, ...runningIndex(job.requestedAt, job.memberId) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { job: fresh, created: true };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      const existing = await erasures.get(s, job.memberId);
      if (!existing) throw err;
      return { job: existing, created: false };
    }
  },

  /** Saves the job's progress under the version it was read at; false when another runner saved first. */
  async save(s: Store, job: ErasureJob): Promise<boolean> {
    const prev = job.version;
    const next: ErasureJob = { ...job, version: prev + 1 };
    const item: Record<string, unknown> = { ...erasureKey(job.memberId), ...next };
    if (next.status === 'running') Object.assign(item, runningIndex(job.requestedAt, job.memberId));
    else {
      delete item.tokens;
      delete item.memberIds;
      delete item.cursor;
    }
    for (const [k, v] of Object.entries(item)) if (v === undefined) delete item[k];
    try {
      await s.db.send(new PutCommand({ TableName: s.table, Item: item, ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': prev } }));
      job.version = prev + 1;
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  },

  /** The member ids of running jobs, oldest request first (one page of at most `limit`). */
  async running(s: Store, limit: number): Promise<string[]> {
    const page = await queryPage<{ memberId: unknown }>(s, { index: true, pk: RUNNING, limit, projection: 'memberId' });
    return page.items.map((i) => String(i.memberId));
  },
};
