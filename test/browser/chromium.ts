/**
 * Where the browser tests find Chromium, and whether they may do without it.
 *
 * Lookup: CHROMIUM_PATH when set (a set path that does not exist is an error, never a fallback),
 * else the first of chromium, chromium-browser, google-chrome-stable, google-chrome on PATH.
 *
 * Required when `CI` is set (to anything but "", "0" or "false") or HUB_REQUIRE_BROWSER=1:
 * .ci/run sets HUB_REQUIRE_BROWSER=1, so CI can never pass without having run the browser
 * suite. Otherwise (a developer machine with only Node and Java, as the README promises) the
 * suite is reported as skipped with the install command.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

export const INSTALL_HINT =
  'install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`; macOS: `brew install --cask chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary';

export type ChromiumLookup = { found: true; path: string } | { found: false; required: boolean; reason: string };

export function findChromium(env: Record<string, string | undefined> = process.env, exists: (path: string) => boolean = existsSync): ChromiumLookup {
  const ci = env.CI;
  const required = (ci !== undefined && !['', '0', 'false'].includes(ci.toLowerCase())) || env.HUB_REQUIRE_BROWSER === '1';
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined) {
    if (configured.trim() === '') return { found: false, required: true, reason: 'CHROMIUM_PATH is set but empty' };
    if (exists(configured)) return { found: true, path: configured };
    return { found: false, required: true, reason: `CHROMIUM_PATH=${configured} does not exist` };
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (exists(candidate)) return { found: true, path: candidate };
    }
  }
  return { found: false, required, reason: `no ${NAMES.join(' / ')} on PATH` };
}
