/**
 * What a planner sees: the event, the transaction it adds to, and member resolution through
 * the identity graph (with the merge of two records an identity links).
 */
import type { HubEvent, Identity } from '../events/hub-event.ts';
import type { Tx } from '../store/tx.ts';
import type { Key } from '../store/keys.ts';
import { getItem } from '../store/item-ops.ts';
import { identities, identityRef } from '../store/entities/identity.ts';
import { members } from '../store/entities/member.ts';
import { merges } from '../store/entities/merge.ts';
import { newId } from '../ids.ts';
import { ConflictError } from '../errors.ts';
import { mergeHistories } from '../attribution/credits.ts';
import { planOutboxRows, type PlannedMessage } from '../engagement/outbox.ts';
import type { MemberStatus } from '../members/model.ts';
import { createStoredMember, readMember, writeMember, type StoredMember } from '../members/record.ts';
import type { ApplyDeps } from './index.ts';

export interface PlanOutput {
  memberId?: string;
  result?: Record<string, unknown>;
}

export interface Resolved {
  member: StoredMember;
  isNew: boolean;
  /** Records merged into `member` by this event. */
  absorbed: StoredMember[];
}

export class PlanContext {
  private readonly messages: PlannedMessage[] = [];
  private resolved?: Resolved;

  constructor(
    readonly event: HubEvent,
    readonly deps: ApplyDeps,
    readonly tx: Tx,
    readonly now: number,
  ) {}

  get tz(): string {
    return this.deps.cfg.HUB_TIMEZONE;
  }
  get store() {
    return { db: this.deps.db, table: this.deps.table };
  }

  /** One item, read consistently. */
  get<T extends Record<string, unknown>>(key: Key): Promise<T | undefined> {
    return getItem<T>(this.store, key, { consistent: true });
  }

  /**
   * Finds the member these identities belong to; creates one (status `createAs`, first seen
   * through `seenChannel`) when none does; merges when they point at two records (the older
   * survives). Identity rows not yet bound are created pointing at the result.
   */
  async resolveMember(
    ids: Identity[],
    opts: { createAs: MemberStatus; seenChannel: string; create?: boolean; wechat?: { appId: string; openid: string } },
  ): Promise<Resolved | undefined> {
    const bound = await identities.readMany(this.store, ids);
    const memberIds = [...new Set(bound.values())];
    const records = (await Promise.all(memberIds.map((id) => readMember(this.store, id)))).filter((m): m is StoredMember => !!m);
    const distinct = [...new Map(records.map((m) => [m.memberId, m])).values()].sort(
      (a, b) => a.createdAt - b.createdAt || (a.memberId < b.memberId ? -1 : 1),
    );
    let member: StoredMember;
    let isNew = false;
    const absorbed: StoredMember[] = [];
    if (distinct.length === 0) {
      if (opts.create === false) return undefined;
      member = createStoredMember(newId(this.now), this.event.occurredAt, opts.createAs, opts.seenChannel);
      isNew = true;
    } else {
      member = distinct[0]!;
      for (const loser of distinct.slice(1)) {
        this.guardMerge(member, loser);
        absorbed.push(loser);
        absorb(member, loser);
      }
    }
    // The first sighting is the earliest event of any arrival order, not the first one processed.
    const seen = { at: this.event.occurredAt, channel: opts.seenChannel };
    const prev = member.history.seen;
    if (!prev || seen.at < prev.at || (seen.at === prev.at && seen.channel < prev.channel)) member.history.seen = seen;
    const wechat = opts.wechat ?? wechatOf(ids);
    if (wechat && !member.wechat) member.wechat = { ...wechat, followed: false };
    for (const id of ids) {
      if (!bound.has(identityRef(id))) identities.bind(this.tx, id, member.memberId, this.now);
    }
    this.resolved = { member, isNew, absorbed };
    return this.resolved;
  }

  /** Resolves to a known member id (e.g. the member an order already belongs to). */
  async useMember(memberId: string): Promise<Resolved | undefined> {
    const member = await readMember(this.store, memberId);
    if (!member) return undefined;
    this.resolved = { member, isNew: false, absorbed: [] };
    return this.resolved;
  }

  /** One phone per member; two WeChat accounts never merge into one person. */
  private guardMerge(survivor: StoredMember, loser: StoredMember): void {
    if (survivor.wechat && loser.wechat && survivor.wechat.appId === loser.wechat.appId && survivor.wechat.openid !== loser.wechat.openid) {
      throw new ConflictError('these identities belong to two different WeChat users', undefined, 'identity_conflict');
    }
    if (survivor.phoneHash && loser.phoneHash && survivor.phoneHash !== loser.phoneHash) {
      throw new ConflictError('the two records carry different phone numbers', undefined, 'identity_conflict');
    }
  }

  /** Adds the resolved member (and any merge) to the transaction. Call once, after mutating it. */
  saveMember(): void {
    const r = this.resolved;
    if (!r) return;
    writeMember(this.tx, r.member, r.isNew, {
      tz: this.tz,
      shards: this.deps.cfg.HUB_COUNTER_SHARDS,
      rules: this.deps.cfg.memberRules,
      now: this.now,
      absorbed: r.absorbed.map((l) => ({ memberId: l.memberId, credits: l.credits })),
    });
    for (const loser of r.absorbed) {
      // The merged-away record keeps its facts for the audit trail but leaves every index.
      members.writeMergedAway(this.tx, loser, r.member.memberId, this.now);
      merges.record(this.tx, { survivor: r.member.memberId, loser: loser.memberId, cause: this.event.type, eventId: this.event.eventId, at: this.now });
    }
  }

  emit(message: PlannedMessage): void {
    this.messages.push(message);
  }

  /** Writes the outbox rows for the planned messages; returns their ids. */
  writeOutbox(): string[] {
    return planOutboxRows(this.tx, this.messages, this.now);
  }
}

/** The WeChat address an identity list carries (`wechat_openid` = `<appId>:<openid>`). */
function wechatOf(identities: Identity[]): { appId: string; openid: string } | undefined {
  const id = identities.find((i) => i.kind === 'wechat_openid');
  const at = id ? id.value.indexOf(':') : -1;
  return id && at > 0 ? { appId: id.value.slice(0, at), openid: id.value.slice(at + 1) } : undefined;
}

/** Folds a losing record into the survivor (lazy merge: the loser's partition is read through `mergedFrom`). */
function absorb(survivor: StoredMember, loser: StoredMember): void {
  survivor.history = mergeHistories(survivor.history, loser.history);
  survivor.points += loser.points;
  // Order count, GMV and order times follow from the merged history (derive()).
  if (!survivor.wechat && loser.wechat) survivor.wechat = loser.wechat;
  survivor.phoneMasked ??= loser.phoneMasked;
  survivor.phoneHash ??= loser.phoneHash;
  survivor.name ??= loser.name;
  survivor.birthday ??= loser.birthday;
  if (loser.lastInteractionAt && (survivor.lastInteractionAt ?? 0) < loser.lastInteractionAt) survivor.lastInteractionAt = loser.lastInteractionAt;
  const from = new Set([...(survivor.mergedFrom ?? []), loser.memberId, ...(loser.mergedFrom ?? [])]);
  survivor.mergedFrom = [...from];
}
