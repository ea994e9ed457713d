/**
 * The one handler every webhook source is served by (docs/architecture.md#add-a-source): the
 * request is read into an InboundRequest (the body limit of the source's descriptor has already
 * run as middleware), the source verifies it, normalises it into HubEvents, every event is
 * applied in order, and only then does the source answer the platform. A GET is the source's
 * URL handshake, or 404 when it has none. A source with a reply budget (WeChat: 5 s) gets a
 * deadline on the apply attempts and, if it says so, a success answer when only the queue failed
 * after the commit. A refused request counts in the Refused metric by source and reason; apply()
 * counts what was applied and what was a duplicate. A request whose signature held is handed to
 * the archive (archiveRequest below), the events by apply().
 */
import { applyWith } from '../apply/apply-with.ts';
import type { ApplyOptions, ApplyResult, Planners } from '../port.ts';
import { HubError, NotFoundError } from '../errors.ts';
import type { MetricsSink } from '../metrics.ts';
import type { HubEvent } from '../events/hub-event.ts';
import type { InboundRequest, Source, Reply } from '../sources/types.ts';
import type { Runtime } from './runtime.ts';
import { inboundRequest, text, type HttpEvent, type HttpResult } from './http.ts';
import { http, type HubHandler } from './lambda.ts';

const toResult = (r: Reply): HttpResult => text(r.statusCode, r.body, r.contentType);

/**
 * `planners`: the planners of the source's event types only (lib/apply/planners), so that the
 * function's bundle carries no other source's planning code (docs/deploy.md#bundles).
 */
export function webhook<M, E extends HubEvent>(source: Source<M, E>, planners: Planners<E>): HubHandler<HttpEvent, HttpResult> {
  const d = source.descriptor;
  return http({ name: d.id, maxBodyBytes: d.maxBodyBytes }, async (event, rt) => {
    const req = inboundRequest(event, d.accountParam, d.maxBodyBytes, rt.now());
    if (req.method === 'GET') {
      if (!source.handshake) throw new NotFoundError(`no route GET ${event.rawPath}`);
      return toResult(source.handshake(req, rt.cfg));
    }
    let signed = false;
    let events: E[] = [];
    try {
      const verified = source.verify(req, rt.cfg);
      signed = true;
      events = source.normalise(verified, rt.cfg);
      // The door's extra rows (a plain-mode push's nonce) belong to a request of exactly one event.
      const guards = events.length === 1 ? (verified.guards ?? {}) : {};
      const opts: ApplyOptions = d.reply
        ? { deadline: req.receivedAt + d.reply.budgetMs, afterCommitQueueFailure: d.reply.successAfterCommit ? 'sweep' : 'retry' }
        : {};
      const results: ApplyResult[] = [];
      for (const e of events) results.push(await applyWith(planners, e, rt, guards, opts));
      const reply = toResult(source.reply(verified, results));
      await archiveRequest(rt, d.id, req, events, 'answered');
      return reply;
    } catch (err) {
      countRefused(rt.metrics, d.id, err);
      if (signed) await archiveRequest(rt, d.id, req, events, err instanceof HubError ? err.code : 'error');
      throw err;
    }
  });
}

/**
 * The archive's raw-request point (lib/archive): a request whose signature held is kept with the
 * eventIds it produced and how it was answered — also when normalising or applying it failed, so
 * a rebuild with a fixed normaliser sees it. Buffered and never throws; the wait for records
 * still in flight is capped by HUB_ARCHIVE_MAX_WAIT_MS (a Lambda instance is frozen after its
 * answer) and a failure only counts in ArchiveFailures.
 */
async function archiveRequest(rt: Runtime, source: string, req: InboundRequest, events: readonly HubEvent[], outcome: string): Promise<void> {
  rt.archive.request(source, req, events.map((e) => e.eventId), outcome);
  await rt.archive.flush(rt.cfg.HUB_ARCHIVE_MAX_WAIT_MS);
}

/** A request answered 4xx (bad signature, stale, invalid) counts in Refused by its error code; a transient fault does not. */
function countRefused(metrics: MetricsSink, source: string, err: unknown): void {
  if (err instanceof HubError && err.status < 500) metrics.add('Refused', { source, reason: err.code });
}
