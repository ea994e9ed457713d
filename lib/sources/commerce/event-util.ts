/**
 * Helpers shared by the commerce normalisers (tmall.ts, jd.ts, youzan.ts).
 */
import type * as z from 'zod';
import { BadRequestError } from '../../errors.ts';
import type { HubEventOf, Identity, IdentityKind, OrderStatus } from '../../events/hub-event.ts';

export type OrderEvent = HubEventOf<'order'>;
export type RefundEvent = HubEventOf<'refund'>;
export type MemberJoinEvent = HubEventOf<'platform.member_join'>;
import { idString } from './json.ts';

/**
 * Validate a built event against its HubEvent schema. A payload that passed the platform's
 * shape checks but still cannot form a valid event is bad input (400), reported field by field.
 */
export function validated<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const reason = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new BadRequestError(`${what} does not form a valid event: ${reason}`, undefined, 'bad_event');
  }
  return r.data;
}

/** Collects buyer identities, skipping blanks and duplicates. */
export class IdentityList {
  private readonly items: Identity[] = [];
  add(kind: IdentityKind, raw: unknown): this {
    const value = idString(raw);
    if (value === undefined || value.length > 256) return this;
    if (!this.items.some((i) => i.kind === kind && i.value === value)) this.items.push({ kind, value });
    return this;
  }
  list(): Identity[] {
    return [...this.items];
  }
}

/** Statuses at which the buyer has paid (refunded orders were paid before the refund). */
export function isPaidStatus(status: OrderStatus): boolean {
  return status === 'paid' || status === 'shipped' || status === 'completed' || status === 'refunded';
}

/** Require an id-like field, else BadRequestError naming it. */
export function requireId(value: unknown, field: string): string {
  const id = idString(value);
  if (id === undefined) {
    throw new BadRequestError(
      typeof value === 'number'
        ? `${field} is a number beyond 2^53 or not an integer; ids must arrive as strings (parse with parseJsonLossless)`
        : `missing ${field}`,
      undefined,
      'missing_field',
    );
  }
  return id;
}

/** Cut free text to a schema limit. */
export function clip(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  return text.length > max ? text.slice(0, max) : text;
}
