/**
 * What the webhook sources of lib/manifest.ts (SOURCES) bring to the domain: the commerce
 * platforms orders come from (`Platform` in lib/events/hub-event.ts) and the built-in
 * attribution channels (people who followed with no scene, people first met through an order
 * on a platform). Derived from SOURCES: adding a commerce source adds its platform and channel.
 */
import { SOURCES } from '../manifest.ts';
import type { BuiltinChannel } from './descriptor-types.ts';

type PlatformOf<S> = S extends { readonly platform: infer P } ? Exclude<P, null> : never;
export type PlatformId = PlatformOf<(typeof SOURCES)[number]>;

/** The commerce platforms, in SOURCES order. */
export const PLATFORMS: readonly PlatformId[] = SOURCES.map((s) => s.platform).filter((p): p is PlatformId => p !== null);

/** Follows without a scene (or with a scene that is not a channel). */
export const ORGANIC_CHANNEL: BuiltinChannel = { channel: 'organic', name: '自然关注', kind: 'organic' };

/**
 * Channels that collect credits without marketing creating them. They cannot be created; the
 * attribution report reads them on every request and lists them when they have activity in the
 * range (or when a channel item exists for them).
 */
export const BUILTIN_CHANNELS: readonly BuiltinChannel[] = [
  ORGANIC_CHANNEL,
  ...SOURCES.flatMap((s): BuiltinChannel[] => ('builtinChannel' in s ? [s.builtinChannel] : [])),
];
const builtinIds = new Set(BUILTIN_CHANNELS.map((c) => c.channel));
export const isBuiltinChannel = (id: string): boolean => builtinIds.has(id);
