/**
 * Audit entries: `AUDIT#<local day> | <at>#<id>`, one per access to a person's data on someone
 * else's behalf (an admin export, an erasure requested by an admin or by the member): who, when,
 * what and why. An entry names the member id only — never an openid, phone or name — so it
 * outlives the erasure it records. TTL HUB_AUDIT_RETENTION_DAYS.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from '../client.ts';
import { TTL_ATTRIBUTE } from '../keys.ts';
import { dayTimedKeys } from './day-timed.ts';
import { queryPage, stripKeys } from '../item-ops.ts';

const PREFIX = 'AUDIT';

export interface AuditEntry {
  at: number;
  id: string;
  /** `export` (GET /members/{id}/export, GET /me/data) or `erase` (POST /members/{id}/erase, DELETE /me, retention). */
  action: 'export' | 'erase';
  memberId: string;
  /** `admin:<subject>`, `member`, `retention`. */
  actor: string;
  /** Why (the verified request's reference, or the rule). */
  reason: string;
}

const KEYS = dayTimedKeys(PREFIX, 'audit entry');
export const auditPartition = KEYS.partition;
export const auditKey = KEYS.build;
export const parseAuditKey = KEYS.parse;

export const audits = {
  async put(s: Store, localDay: string, e: AuditEntry, retentionDays: number): Promise<void> {
    await s.db.send(new PutCommand({ TableName: s.table, Item: { ...auditKey(localDay, e.at, e.id), ...e, [TTL_ATTRIBUTE]: Math.floor(e.at / 1000) + retentionDays * 86_400 } }));
  },

  /** One day's entries, oldest first (first page of at most `limit`). */
  async day(s: Store, localDay: string, limit: number): Promise<AuditEntry[]> {
    const page = await queryPage(s, { pk: auditPartition(localDay), limit, consistent: true });
    return page.items.map((i) => stripKeys(i) as unknown as AuditEntry);
  },
};
