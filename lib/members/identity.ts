/**
 * Member resolution through the identity graph, inside an event's plan (the Port): finds the
 * member the event's identities belong to, creates one when none does, merges two records an
 * identity links (the older survives), and adds the profile write, the merged-away rows and the
 * MERGE# rows to the transaction.
 */
import type { HubEvent, Identity } from '../events/hub-event.ts';
import type { Port } from '../port.ts';
import { identities, identityRef } from '../store/entities/identity.ts';
import { members } from '../store/entities/member.ts';
import { merges } from '../store/entities/merge.ts';
import { newId } from '../ids.ts';
import { ConflictError } from '../errors.ts';
import { mergeHistories } from '../attribution/credits.ts';
import { unwindMergedReferrals } from '../loyalty/referrals.ts';
import { mergeSubscriptions } from '../engagement/subscriptions.ts';
import { interacted, mergePresence, mergeWecom, ORGANIC, type MemberStatus } from './model.ts';
import { createStoredMember, creditsGiven, writeMember, type StoredMember } from './record.ts';

/** A WeChat person's identity on one app (`wechat_openid` = `<appId>:<openid>`). */
export const wechatIdentity = (appId: string, openid: string) => ({ kind: 'wechat_openid' as const, value: `${appId}:${openid}` });
/** The person across the brand's apps bound to one open platform (`wechat_unionid` = the unionid). */
export const unionidIdentity = (unionid: string) => ({ kind: 'wechat_unionid' as const, value: unionid });
/** A WeCom customer of the brand's corp (`wecom_external_userid` = `<corpId>:<external_userid>`). */
export const wecomIdentity = (corpId: string, externalUserId: string) => ({ kind: 'wecom_external_userid' as const, value: `${corpId}:${externalUserId}` });

export interface Resolved {
  member: StoredMember;
  isNew: boolean;
  /** Records merged into `member` by this event. */
  absorbed: StoredMember[];
}

export interface ResolveOptions {
  createAs: MemberStatus;
  /** The channel of the first sighting; absent: the event is no sighting (it only links identities). */
  seenChannel?: string;
  /** false: answer undefined instead of creating a record. */
  create?: boolean;
  wechat?: { appId: string; openid: string };
}

/**
 * Finds the member these identities belong to; creates one (status `createAs`, first seen
 * through `seenChannel`) when none does; merges when they point at two records (the older
 * survives). Identity rows not yet bound are created pointing at the result.
 */
export async function resolveMember(p: Port, event: HubEvent, ids: Identity[], opts: ResolveOptions): Promise<Resolved | undefined> {
  const bound = await p.reads.identities(ids);
  const memberIds = [...new Set(bound.values())];
  const records = (await Promise.all(memberIds.map((id) => p.reads.member<StoredMember>(id)))).filter((m): m is StoredMember => !!m);
  const distinct = [...new Map(records.map((m) => [m.memberId, m])).values()].sort(
    (a, b) => a.createdAt - b.createdAt || (a.memberId < b.memberId ? -1 : 1),
  );
  let member: StoredMember;
  let isNew = false;
  const absorbed: StoredMember[] = [];
  if (distinct.length === 0) {
    if (opts.create === false) return undefined;
    member = createStoredMember(newId(p.now), event.occurredAt, opts.createAs, opts.seenChannel ?? ORGANIC);
    isNew = true;
  } else {
    member = distinct[0]!;
    for (const loser of distinct.slice(1)) {
      guardMerge(member, loser);
      absorbed.push(loser);
      absorb(member, loser);
    }
    // A referral between records now one person is reversed (lib/loyalty/referrals.ts).
    if (absorbed.length) await unwindMergedReferrals(p, member);
  }
  // The first sighting is the earliest event of any arrival order, not the first one processed.
  if (opts.seenChannel !== undefined) {
    const seen = { at: event.occurredAt, channel: opts.seenChannel };
    const prev = member.history.seen;
    if (!prev || seen.at < prev.at || (seen.at === prev.at && seen.channel < prev.channel)) member.history.seen = seen;
  }
  const wechat = opts.wechat ?? wechatOf(ids);
  if (wechat && !member.wechat) member.wechat = { ...wechat, followed: false };
  for (const id of ids) {
    if (!bound.has(identityRef(id))) identities.bind(p.tx, id, member.memberId, p.now);
  }
  return { member, isNew, absorbed };
}

/** Resolves to a known member id (e.g. the member an order already belongs to). */
export async function useMember(p: Port, memberId: string): Promise<Resolved | undefined> {
  const member = await p.reads.member<StoredMember>(memberId);
  return member ? { member, isNew: false, absorbed: [] } : undefined;
}

/** Adds the resolved member (and any merge) to the transaction. Call once, after mutating it. */
export function saveMember(p: Port, event: HubEvent, r: Resolved): void {
  writeMember(p.tx, r.member, r.isNew, {
    tz: p.tz,
    shards: p.cfg.HUB_COUNTER_SHARDS,
    rules: p.cfg.memberRules,
    fanRetentionDays: p.cfg.HUB_FAN_RETENTION_DAYS,
    now: p.now,
    absorbed: r.absorbed.map((l) => ({ memberId: l.memberId, credits: creditsGiven(l, p.tz) })),
    ...(p.creditWrites ? { creditWrites: p.creditWrites } : {}),
  });
  for (const loser of r.absorbed) {
    // The merged-away record keeps its facts for the audit trail but leaves every index.
    members.writeMergedAway(p.tx, loser, r.member.memberId, p.now);
    merges.record(p.tx, { survivor: r.member.memberId, loser: loser.memberId, cause: event.type, eventId: event.eventId, at: p.now });
  }
}

/** Every WeChat address of a record, appId → openid. */
function addresses(m: StoredMember): Map<string, string> {
  const out = new Map(Object.entries(m.apps ?? {}).map(([appId, a]) => [appId, a.openid]));
  if (m.wechat && !out.has(m.wechat.appId)) out.set(m.wechat.appId, m.wechat.openid);
  return out;
}

/** One phone per member; two openids of one app, or two unionids, never merge into one person. */
function guardMerge(survivor: StoredMember, loser: StoredMember): void {
  const theirs = addresses(loser);
  for (const [appId, openid] of addresses(survivor)) {
    if (theirs.has(appId) && theirs.get(appId) !== openid) throw new ConflictError('these identities belong to two different WeChat users', undefined, 'identity_conflict');
  }
  if (survivor.wecom && loser.wecom && survivor.wecom.externalUserId !== loser.wecom.externalUserId) {
    throw new ConflictError('the two records are two different WeCom customers', undefined, 'identity_conflict');
  }
  if (survivor.unionid && loser.unionid && survivor.unionid !== loser.unionid) {
    throw new ConflictError('the two records carry different WeChat unionids', undefined, 'identity_conflict');
  }
  if (survivor.phoneHash && loser.phoneHash && survivor.phoneHash !== loser.phoneHash) {
    throw new ConflictError('the two records carry different phone numbers', undefined, 'identity_conflict');
  }
}

/** The WeChat address an identity list carries (`wechat_openid` = `<appId>:<openid>`). */
function wechatOf(ids: Identity[]): { appId: string; openid: string } | undefined {
  const id = ids.find((i) => i.kind === 'wechat_openid');
  const at = id ? id.value.indexOf(':') : -1;
  return id && at > 0 ? { appId: id.value.slice(0, at), openid: id.value.slice(at + 1) } : undefined;
}

/** Folds a losing record into the survivor (lazy merge: the loser's partition is read through `mergedFrom`). */
function absorb(survivor: StoredMember, loser: StoredMember): void {
  survivor.history = mergeHistories(survivor.history, loser.history);
  survivor.points += loser.points;
  // Order count, GMV and order times follow from the merged history (derive()).
  if (!survivor.wechat && loser.wechat) survivor.wechat = loser.wechat;
  survivor.unionid ??= loser.unionid;
  const wecom = mergeWecom(survivor.wecom, loser.wecom);
  if (wecom) survivor.wecom = wecom;
  if (loser.apps) {
    const apps = (survivor.apps ??= {});
    for (const [appId, a] of Object.entries(loser.apps)) apps[appId] = apps[appId] ? mergePresence(apps[appId], a) : { ...a };
  }
  const subscriptions = mergeSubscriptions(survivor.subscriptions, loser.subscriptions);
  if (subscriptions) survivor.subscriptions = subscriptions;
  survivor.phoneMasked ??= loser.phoneMasked;
  survivor.phoneHash ??= loser.phoneHash;
  survivor.name ??= loser.name;
  survivor.birthday ??= loser.birthday;
  if (loser.lastInteractionAt && loser.lastInteractionKind) interacted(survivor, loser.lastInteractionAt, loser.lastInteractionKind);
  else if (loser.lastInteractionAt && (survivor.lastInteractionAt ?? 0) < loser.lastInteractionAt) {
    survivor.lastInteractionAt = loser.lastInteractionAt;
    delete survivor.lastInteractionKind;
  }
  const from = new Set([...(survivor.mergedFrom ?? []), loser.memberId, ...(loser.mergedFrom ?? [])]);
  survivor.mergedFrom = [...from];
}
