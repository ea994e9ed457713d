/**
 * Replay of one archived event into the LIVE table (`npm run replay -- --event <id>`): the event
 * as the current normaliser makes it from its archived request (reopen.ts), or as archived when
 * no archived request produced it (code scans, registrations, the TMC pull). `apply` makes it a
 * no-op when the event is already applied (its dedupe marker answers `duplicate`).
 */
import { apply } from '../apply/apply.ts';
import type { HubEvent } from '../events/hub-event.ts';
import type { ApplyDeps, ApplyResult } from '../port.ts';
import { readEvents, readRequests } from './reader.ts';
import { isSourceId, REOPEN } from './reopen.ts';

const ALL = { from: '0000-00-00', to: '9999-99-99' };

export interface ReplayResult {
  from: 'request' | 'archived event';
  result: ApplyResult;
}

export async function replayEvent(archiveDir: string, eventId: string, deps: ApplyDeps): Promise<ReplayResult> {
  const request = (await readRequests(archiveDir, ALL)).find((r) => r.event_ids.includes(eventId));
  if (request && isSourceId(request.source)) {
    const event = REOPEN[request.source](request, deps.cfg).find((e) => e.eventId === eventId);
    if (!event) throw new Error(`the current ${request.source} normaliser no longer makes event ${eventId} from request ${request.id}`);
    return { from: 'request', result: await apply(event, deps) };
  }
  const archived = (await readEvents(archiveDir, ALL)).find((e) => e.event_id === eventId);
  if (!archived) throw new Error(`event ${eventId} is not in the archive ${archiveDir}`);
  return { from: 'archived event', result: await apply(JSON.parse(archived.event) as HubEvent, deps) };
}
