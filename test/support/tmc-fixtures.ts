/** The documented Tmall payloads of events/ as the TOP stand-in takes them. */
import { readFileSync } from 'node:fs';
import { parseTmcMessages } from '../../lib/sources/tmall/normalise.ts';
import type { StandinMessageInput } from '../../local/top-standin.ts';

/** The text of a file under events/. */
export const eventFixture = (path: string): string => readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8');

/** A parsed TMC message as a stand-in queue entry (ids kept as given). */
export const asStandinInput = (m: ReturnType<typeof parseTmcMessages>[number]): StandinMessageInput => ({
  id: m.id,
  topic: m.topic,
  content: m.content,
  ...(m.pub_time ? { pub_time: m.pub_time } : {}),
  ...(m.user_id ? { user_id: m.user_id } : {}),
});

/** The messages of a TMC fixture under events/, ready for `hub.top.enqueue`. */
export const tmcFixtureMessages = (path: string): StandinMessageInput[] => parseTmcMessages(eventFixture(path)).map(asStandinInput);
