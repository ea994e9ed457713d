/**
 * The engagement caps' and windows' input: marketing messages already sent to a member, and
 * customer-service messages sent since the member's last interaction, read from the sent-log
 * rows of the member's partition and of the partitions merged into it.
 */
import type { Store } from '../../store/client.ts';
import { sentRows } from '../../store/entities/sent-log.ts';
import type { StoredMember } from '../../members/record.ts';
import { localDay, startOfLocalDay } from '../../time.ts';
import { WEEK_MS } from '../guardrails.ts';

/** Upper bound of sent-log rows read per member partition for the caps. */
const CAP_QUERY_PAGES = 5;
const CAP_QUERY_PAGE_SIZE = 200;
const MAX_MERGED_PARTITIONS = 10;

/**
 * Marketing messages sent to the member in the current local day and in the last 7 days, and
 * customer-service messages (any class) sent at or after `member.lastInteractionAt` (a window
 * is at most 48 h, inside the 7 days read).
 */
export async function countSends(
  deps: Store & { tz: string },
  member: Pick<StoredMember, 'memberId' | 'mergedFrom' | 'lastInteractionAt'>,
  now: number,
): Promise<{ today: number; week: number; customInWindow: number }> {
  const weekFrom = now - WEEK_MS;
  const windowFrom = member.lastInteractionAt ?? Number.POSITIVE_INFINITY;
  let customInWindow = 0;
  const dayFrom = startOfLocalDay(localDay(now, deps.tz), deps.tz);
  const partitions = [member.memberId, ...(member.mergedFrom ?? [])].slice(0, MAX_MERGED_PARTITIONS);
  let today = 0;
  let week = 0;
  const seen = new Set<string>();
  for (const id of partitions) {
    const rows = await sentRows(deps, id, weekFrom + 1, now, { pages: CAP_QUERY_PAGES, pageSize: CAP_QUERY_PAGE_SIZE });
    for (const row of rows) {
      if (seen.has(row.messageId)) continue;
      seen.add(row.messageId);
      if (row.via === 'custom' && row.at >= windowFrom) customInWindow++;
      if (row.class !== 'marketing') continue;
      week++;
      if (row.at >= dayFrom) today++;
    }
  }
  return { today, week, customInWindow };
}
