/**
 * Scan abuse limits.
 * - Per person and local day, `SCANLIMIT#<appId>:<openid>` | `<local day>`: redemptions counted,
 *   the recent ones ([at, serial]) and a version for the optimistic write; TTL 3 days.
 * - Invalid attempts per subject and local day, `SCANBAD#<subject>` | `<local day>`, subject
 *   `wechat#<appId>:<openid>` or `ip#<address>`: a count `n`; TTL 3 days.
 */
import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ForeignKeyError, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { stripKeys } from '../item-ops.ts';

const LIMIT_PREFIX = 'SCANLIMIT';
const INVALID_PREFIX = 'SCANBAD';

export interface ScanLimit {
  count: number;
  /** Recent redemptions: [at, serial]. */
  recent: [number, number][];
  version: number;
}

/** `<appId>:<openid>`: WeChat appIds hold no `:`. */
export const wechatPerson = (appId: string, openid: string): string => `${appId}:${openid}`;
function parseWechatPerson(s: string, what: string): { appId: string; openid: string } {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) throw new ForeignKeyError(s, what);
  return { appId: s.slice(0, i), openid: s.slice(i + 1) };
}

export const scanLimitKey = (appId: string, openid: string, localDay: string): Key => ({ pk: `${LIMIT_PREFIX}#${wechatPerson(appId, openid)}`, sk: localDay });
export function parseScanLimitKey(k: Key): { appId: string; openid: string; day: string } {
  return { ...parseWechatPerson(splitKey(k.pk, LIMIT_PREFIX, 1, 'scan limit')[0]!, 'scan limit'), day: k.sk };
}
export const scanLimitFromItem = (item: Record<string, unknown>): ScanLimit => stripKeys(item) as unknown as ScanLimit;

export const scanLimits = {
  /** Writes the next state (tag `scanlimit`): created, or replaced if still at `prevVersion`. */
  write(tx: Tx, key: Key, next: ScanLimit, prevVersion: number | undefined, expiresAt: number): void {
    const attrs = { ...next, expiresAt };
    if (prevVersion === undefined) tx.create('scanlimit', key, attrs);
    else tx.put('scanlimit', key, attrs, { expr: '#v = :v', names: { '#v': 'version' }, values: { ':v': prevVersion } });
  },
};

/** The scan-limit and invalid-scan partitions of a WeChat address (`<appId>:<openid>`), every day. */
export const scanPartitions = (address: string): string[] => [`${LIMIT_PREFIX}#${address}`, `${INVALID_PREFIX}#wechat#${address}`];

/** Who invalid attempts are counted for. */
export const invalidScanSubject = {
  wechat: (appId: string, openid: string): string => `wechat#${wechatPerson(appId, openid)}`,
  ip: (address: string): string => `ip#${address}`,
};

export const invalidScanKey = (subject: string, localDay: string): Key => ({ pk: `${INVALID_PREFIX}#${subject}`, sk: localDay });
export function parseInvalidScanKey(k: Key): { subject: string; day: string } {
  return { subject: splitKey(k.pk, INVALID_PREFIX, 1, 'invalid scan')[0]!, day: k.sk };
}

export const invalidScans = {
  /** Today's counts of the subjects (one consistent BatchGetItem); absent subjects are 0. */
  async counts(s: Store, subjects: string[], localDay: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const res: BatchGetCommandOutput = await s.db.send(
      new BatchGetCommand({ RequestItems: { [s.table]: { Keys: subjects.map((x) => invalidScanKey(x, localDay)), ConsistentRead: true } } }),
    );
    for (const item of res.Responses?.[s.table] ?? []) {
      out.set(parseInvalidScanKey({ pk: String(item.pk), sk: String(item.sk) }).subject, Number(item.n ?? 0));
    }
    return out;
  },

  /** Counts one invalid attempt for each subject in `tx`. */
  count(tx: Tx, subjects: string[], localDay: string, expiresAt: number): void {
    for (const subject of subjects) tx.add(invalidScanKey(subject, localDay), { n: 1 }, { expiresAt });
  },
};
