/**
 * Erasure (PIPL art. 47; docs/privacy.md#erasure): one idempotent, resumable operation per person.
 *
 *   request   POST /members/{id}/erase (admin), DELETE /me (the member), or the fan-retention
 *             rule (an unregistered fan gone from every account, lib/privacy/fan-retention.ts)
 *             creates the job `ERASE#<memberId>` (entities/erasure.ts) and an audit entry;
 *   run       the `privacy` function (every 5 minutes, and at once locally through
 *             `POST /_local/run/privacy`) takes the running jobs and works through STEPS,
 *             saving the step — and within the sweep the Scan cursor — after each piece of work,
 *             so an interrupted run (timeout, throttling, a crash) resumes where it stopped and
 *             repeating a piece of work changes nothing.
 *
 * Steps:
 *   collect     the person's record ids (the record and those merged into it), identities and the
 *               identifier values (tokens) to find their items by, saved on the job
 *   identities  the identity rows are deleted first: from here on an event of the same platform
 *               ids finds nobody and creates a new person (a new member id), never the old one
 *   person      the lift report's eligibility records first get erased copies with their
 *               conversion frozen (lib/insight/lift.ts freezeEligibility); then everything keyed
 *               by the person (lib/privacy/export.ts personItems: the member partitions — any
 *               item type in them —, orders, messages, SMS and scan rows)
 *   sweep       one pass over the table (Scan pages, cursor on the job): every other item holding
 *               one of the tokens — dedupe markers (so an old event's marker cannot answer for the
 *               erased record), refusals, pending credit deltas, redemptions, types added later
 *   archive     a tombstone in the archive and, locally, the person's archive lines removed
 *               (lib/archive/erase.ts)
 *
 * What happens to an item is its inventory policy (lib/privacy/inventory.ts): deleted;
 * anonymised (orders, refunds, code redemptions keep amounts and states for the brand's books,
 * without any attribute naming the person); re-keyed (credit deltas not yet folded keep their
 * credits, the member id taken out of their key, so the attribution counters — aggregates — end
 * exactly as they would have); kept (the counters, the job, the audit).
 */
import type { HubConfig } from '../config/index.ts';
import type { Store } from '../store/client.ts';
import { erasures, type ErasureJob } from '../store/entities/erasure.ts';
import { audits } from '../store/entities/audit.ts';
import { members } from '../store/entities/member.ts';
import { memberIdentitiesPartition, parseIdentityKey } from '../store/entities/identity.ts';
import { creditDeltas, deltaFromItem } from '../store/entities/credit-delta.ts';
import { deleteItem, removeAttributes } from '../store/item-ops.ts';
import { scanPage } from '../store/snapshot.ts';
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { newId, stableId } from '../ids.ts';
import { localDay } from '../time.ts';
import { logger } from '../log.ts';
import { ErasureBusy, NotFoundError } from '../errors.ts';
import type { StoredMember } from '../members/record.ts';
import { indexItems, personItems, recordIds, type Item } from './export.ts';
import { erasePolicyOf } from './inventory.ts';
import { identityToken, tokenMatcher } from './tokens.ts';
import { freezeEligibility } from '../insight/lift.ts';

export const STEPS = ['collect', 'identities', 'person', 'sweep', 'archive'] as const;
export type ErasureStep = (typeof STEPS)[number];

/** Items per sweep page: the cursor is saved after each. */
const SWEEP_PAGE = 500;

/** The archive's erasure (lib/archive/archive.ts HubArchive.erase): tombstone, then local lines removed. */
export interface ArchiveEraser {
  erase(memberId: string, tokens: readonly string[], match: (line: string) => boolean, at: number): Promise<number>;
}

export interface ErasureDeps {
  store: Store;
  cfg: HubConfig;
  now: () => number;
  archive?: ArchiveEraser;
  /** Time left for this run (Lambda context); a run stops between pieces of work under `reserveMs`. */
  remainingMs?: () => number;
  reserveMs?: number;
}

export interface ErasureRequest {
  memberId: string;
  /** `member`, `admin:<subject>`, `retention`. */
  actor: string;
  reason: string;
}

/**
 * Creates the erasure of the person a record id leads to (the merge survivor). Idempotent: the
 * same person again answers the job already there. Audited. 404 for an unknown record.
 */
export async function requestErasure(store: Store, cfg: HubConfig, req: ErasureRequest, now: number): Promise<ErasureJob> {
  const existing = await erasures.get(store, req.memberId);
  if (existing) return existing;
  const m = await members.resolve<StoredMember>(store, req.memberId);
  if (!m) throw new NotFoundError(`no member ${req.memberId}`);
  const { job, created } = await erasures.request(store, { memberId: m.memberId, requestedAt: now, requestedBy: req.actor, reason: req.reason });
  if (created) await audit(store, cfg, { action: 'erase', memberId: m.memberId, actor: req.actor, reason: req.reason }, now);
  return job;
}

/** An audit entry (member id only) and its log line. */
export async function audit(store: Store, cfg: HubConfig, e: { action: 'export' | 'erase'; memberId: string; actor: string; reason: string }, now: number): Promise<void> {
  await audits.put(store, localDay(now, cfg.HUB_TIMEZONE), { ...e, at: now, id: newId(now) }, cfg.HUB_AUDIT_RETENTION_DAYS);
  logger.info('personal data access audited', { action: e.action, memberId: e.memberId, actor: e.actor, reason: e.reason });
}

/** Runs one erasure until it is done or the run's time is up; answers the job as saved. */
export async function runErasure(deps: ErasureDeps, memberId: string): Promise<ErasureJob> {
  const job = await erasures.get(deps.store, memberId);
  if (!job) throw new NotFoundError(`no erasure of ${memberId}`);
  if (job.status === 'done') return job;
  job.runs += 1;
  await save(deps, job);
  const outOfTime = () => deps.remainingMs !== undefined && deps.remainingMs() < (deps.reserveMs ?? 10_000);
  while (job.status === 'running') {
    if (outOfTime()) return job;
    const step = STEPS[job.step];
    if (step === undefined) {
      job.status = 'done';
      job.completedAt = deps.now();
      await save(deps, job);
      logger.info('erasure complete', { memberId, counts: job.counts, runs: job.runs });
      break;
    }
    const finished = await STEP_WORK[step](deps, job);
    if (finished) {
      job.step += 1;
      delete job.cursor;
    }
    await save(deps, job);
  }
  return job;
}

/** Runs every running erasure (oldest first) while time is left; answers how many finished. */
export async function runErasures(deps: ErasureDeps, limit = 25): Promise<{ running: number; done: number }> {
  const ids = await erasures.running(deps.store, limit);
  let done = 0;
  for (const id of ids) {
    try {
      if ((await runErasure(deps, id)).status === 'done') done++;
    } catch (err) {
      if (!(err instanceof ErasureBusy)) throw err;
    }
  }
  return { running: ids.length, done };
}

async function save(deps: ErasureDeps, job: ErasureJob): Promise<void> {
  if (!(await erasures.save(deps.store, job))) throw new ErasureBusy();
}

type StepWork = (deps: ErasureDeps, job: ErasureJob) => Promise<boolean>;

const STEP_WORK: Record<ErasureStep, StepWork> = {
  async collect(deps, job) {
    const m = await members.get<StoredMember>(deps.store, job.memberId);
    const ids = m ? recordIds(m) : [job.memberId];
    const tokens = new Set<string>(ids);
    for (const id of ids) {
      for (const row of await indexItems(deps.store, memberIdentitiesPartition(id))) tokens.add(identityToken(parseIdentityKey({ pk: String(row.pk) })));
    }
    if (m) {
      for (const a of Object.values(m.apps ?? {})) tokens.add(a.openid);
      if (m.wechat) tokens.add(m.wechat.openid);
      if (m.unionid) tokens.add(m.unionid);
      if (m.phoneHash) tokens.add(m.phoneHash);
      if (m.wecom) tokens.add(m.wecom.externalUserId);
    }
    job.memberIds = ids;
    job.tokens = [...tokens].sort();
    return true;
  },

  async identities(deps, job) {
    for (const id of job.memberIds ?? [job.memberId]) {
      for (const row of await indexItems(deps.store, memberIdentitiesPartition(id))) {
        await deleteItem(deps.store, { pk: String(row.pk), sk: String(row.sk) });
        job.counts.deleted++;
      }
    }
    return true;
  },

  async person(deps, job) {
    const ids = job.memberIds ?? [job.memberId];
    const match = tokenMatcher(job.tokens ?? ids);
    // The lift report's eligibility records: erased copies with the conversion frozen, while the history is still there.
    job.counts.rekeyed += await freezeEligibility(deps.store, ids, deps.now());
    for (const item of await personItems(deps.store, { memberId: ids[0]!, mergedFrom: ids.slice(1) })) await eraseItem(deps, job, item, match);
    return true;
  },

  async sweep(deps, job) {
    const match = tokenMatcher(job.tokens ?? job.memberIds ?? [job.memberId]);
    const outOfTime = () => deps.remainingMs !== undefined && deps.remainingMs() < (deps.reserveMs ?? 10_000);
    for (;;) {
      const page = await scanPage(deps.store, { limit: SWEEP_PAGE, ...(job.cursor ? { start: job.cursor } : {}) });
      for (const item of page.items) if (match(JSON.stringify(item))) await eraseItem(deps, job, item, match);
      if (!page.next) return true;
      job.cursor = page.next;
      await save(deps, job);
      if (outOfTime()) return false;
    }
  },

  async archive(deps, job) {
    if (!deps.archive) return true;
    const match = tokenMatcher(job.tokens ?? [job.memberId]);
    job.counts.archiveRecords += await deps.archive.erase(job.memberId, job.tokens ?? [job.memberId], match, deps.now());
    return true;
  },
};

/** What an erasure does with one item holding the person's identifier (its inventory policy). */
async function eraseItem(deps: ErasureDeps, job: ErasureJob, item: Item, match: (text: string) => boolean): Promise<void> {
  const key = { pk: String(item.pk), sk: String(item.sk) };
  const policy = erasePolicyOf(key, job.memberIds ?? [job.memberId]);
  if (policy === 'keep') return;
  if (policy === 'rekey') {
    await rekeyDelta(deps, job, item);
    return;
  }
  if (policy === 'anonymise' && !match(`${key.pk} ${key.sk}`)) {
    const naming = Object.keys(item).filter((k) => k !== 'pk' && k !== 'sk' && match(JSON.stringify(item[k])));
    // The index entry names the person (MORDERS#<memberId>): it goes with the attribute that put it there.
    if (naming.length && typeof item.gsi1pk === 'string' && !naming.includes('gsi1pk') && naming.includes('memberId')) naming.push('gsi1pk', 'gsi1sk');
    if (naming.length && (await removeAttributes(deps.store, key, [...new Set(naming)], { anonymisedAt: deps.now() }))) job.counts.anonymised++;
    return;
  }
  await deleteItem(deps.store, key);
  job.counts.deleted++;
}

/** A credit delta not yet folded: the same credits under a key without the member id (or already folded: nothing to do). */
async function rekeyDelta(deps: ErasureDeps, job: ErasureJob, item: Item): Promise<void> {
  const d = deltaFromItem(item);
  const tx = new Tx(deps.store.table);
  let sk = d.id;
  for (const id of job.memberIds ?? [job.memberId]) sk = sk.split(id).join(`erased-${stableId('erased-delta', id, d.id)}`);
  creditDeltas.rekey(tx, d, sk);
  try {
    await tx.commit(deps.store.db);
    job.counts.rekeyed++;
  } catch (err) {
    // The fold took it meanwhile (or an earlier run re-keyed it): it is counted either way.
    if (!(err instanceof TxConditionFailed)) throw err;
  }
}
