/**
 * What a webhook source does (docs/architecture.md#add-a-source): verify a request, turn the
 * verified message into HubEvents, and answer the platform once they are committed. Pure: no
 * Lambda event types, no table access; the handler reads the HTTP request into an
 * InboundRequest, applies the events and writes the Reply out.
 */
import type { HubConfig } from '../config/schema.ts';
import type { HubEvent } from '../events/hub-event.ts';
// Type-only: the result of committing an event and the extra rows committed with it.
import type { ApplyGuards, ApplyResult } from '../port.ts';
import type { SourceDescriptor } from './descriptor-types.ts';

export interface InboundRequest {
  method: 'GET' | 'POST';
  /** The descriptor's accountParam path parameter ('' when missing). */
  account: string;
  query: Readonly<Record<string, string>>;
  /** Lower-cased names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The decoded body, within the source's maxBodyBytes. */
  body: Buffer;
  /** Server clock at arrival, epoch ms. */
  receivedAt: number;
}

export interface Reply {
  statusCode: number;
  contentType: string;
  body: string;
}

export interface Verified<M> {
  message: M;
  /** Extra rows committed with the event (a plain-mode WeChat push's nonce-cache entry). */
  guards?: ApplyGuards;
}

/** `M`: the verified message; `E`: the HubEvents it can normalise into (the function plans only those). */
export interface Source<M = unknown, E extends HubEvent = HubEvent> {
  readonly descriptor: SourceDescriptor;
  /** GET handshake (WeChat URL verification). Absent: the source has no GET route. */
  handshake?(req: InboundRequest, cfg: HubConfig): Reply;
  /**
   * Account (unknown → 404 for WeChat, 401 for commerce), freshness and signature (401), envelope
   * (400/413). Nothing is parsed before the signature holds where the platform signs the body.
   */
  verify(req: InboundRequest, cfg: HubConfig): Verified<M>;
  /** HubEvents of the message; [] for a type the hub does not use (logged here). Malformed content → BadRequestError. */
  normalise(v: Verified<M>, cfg: HubConfig): E[];
  /** The platform's success answer, after every event committed or was a duplicate. */
  reply(v: Verified<M>, results: readonly ApplyResult[]): Reply;
}

/** The JSON success answer of a commerce platform. */
export const jsonReply = (body: unknown): Reply => ({ statusCode: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) });
