/** The recorded WeChat pushes under events/wechat/ and their manifest. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../events/wechat/', import.meta.url));

/** A fixture file's text. */
export const readWechatFixture = (file: string): string => readFileSync(DIR + file, 'utf8');

export interface ManifestEntry {
  file: string;
  kind: string;
  bytes?: number;
  method?: string;
  query?: string;
  config?: { token: string; encodingAESKey?: string; appid?: string };
  expected?: Record<string, unknown>;
}

export const manifest = JSON.parse(readWechatFixture('manifest.json')) as ManifestEntry[];

/** The manifest entry of a fixture file. */
export function manifestEntry(file: string): ManifestEntry {
  const found = manifest.find((e) => e.file === file);
  if (!found) throw new Error(`manifest has no ${file}`);
  return found;
}
