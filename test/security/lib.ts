/**
 * Helpers of the attack reproductions: the table's full content before and after a request
 * (a Scan, sorted by key), the difference between two of them, and the member-centre calls.
 */
import { scanAll, type Item } from '../support/table.ts';

export type Snapshot = Map<string, string>;

const keyOf = (i: Item) => `${String(i.pk)}\u0000${String(i.sk)}`;

/** Every item of the table, keyed by pk/sk, as canonical JSON. */
export async function snapshot(table: string): Promise<Snapshot> {
  const items = await scanAll(table);
  return new Map(items.map((i) => [keyOf(i), JSON.stringify(i, Object.keys(i).sort())]));
}

/** What changed between two snapshots: added, removed and changed keys (pk sk). */
export function changes(before: Snapshot, after: Snapshot): { added: string[]; removed: string[]; changed: string[] } {
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k));
  const show = (k: string) => k.replace('\u0000', ' ');
  return { added: added.map(show), removed: removed.map(show), changed: changed.map(show) };
}

export const NOTHING = { added: [], removed: [], changed: [] };

export interface JsonReply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  body: any;
}

export async function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
  const res = await fetch(base + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The SMS code the stand-in recorded last for `phone`. */
export async function lastCode(standinUrl: string, phone: string): Promise<string> {
  const texts = (await (await fetch(`${standinUrl}/_local/sms`)).json()) as { phone: string; code: string }[];
  const mine = texts.filter((t) => t.phone === phone);
  if (!mine.length) throw new Error(`no text to ${phone}`);
  return mine.at(-1)!.code;
}
