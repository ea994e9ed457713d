/**
 * apply(event): the one write path (lib/apply/apply-with.ts) with the planner of every event
 * type (lib/apply/planners/index.ts). Every HubEvent is committed in ONE DynamoDB transaction —
 * dedupe marker, identity rows, the member profile, order / points / code rows, attribution
 * credit differences and outbox rows — then the outbox rows planned in that commit are drained
 * to SQS. A webhook function uses applyWith with its own source's planners instead.
 */
import type { HubEvent } from '../events/hub-event.ts';
import type { ApplyDeps, ApplyGuards, ApplyOptions, ApplyResult } from '../port.ts';
import { applyWith } from './apply-with.ts';
import { PLANNERS } from './planners/index.ts';

export type { ApplyDeps, ApplyGuards, ApplyOptions, ApplyResult } from '../port.ts';

export function apply(input: HubEvent, deps: ApplyDeps, guards: ApplyGuards = {}, opts: ApplyOptions = {}): Promise<ApplyResult> {
  return applyWith(PLANNERS, input, deps, guards, opts);
}

/** Applies a request's events in order (one platform request may carry several messages). */
export async function applyAll(events: HubEvent[], deps: ApplyDeps): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const e of events) out.push(await apply(e, deps));
  return out;
}
