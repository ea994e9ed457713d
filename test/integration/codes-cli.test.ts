import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecFromSecret, formatCode } from '../../lib/codes/codec.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_SECRET = 'local-code-signing-secret-change-me';

/** Environment without CODE_SIGNING_SECRET, so the CLI uses its local default. */
function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.CODE_SIGNING_SECRET;
  return e;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/codes.ts', ...args], {
      cwd: ROOT,
      env: env(),
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('codes CLI', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codes-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates 20,000 codes that all verify', async () => {
    const out = join(dir, 'codes.csv');
    const { code, stdout, stderr } = await cli(['generate', '--count', '20000', '--out', out]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/count: 20000/);
    expect(stdout).toMatch(/codes\/s: \d+/);
    expect(stdout).toMatch(/peak RSS: [\d.]+ MiB/);
    expect(stderr).toMatch(/100%/); // not a TTY: a line per 10 %

    const text = await readFile(out, 'utf8');
    const lines = text.split('\n');
    expect(lines.pop()).toBe(''); // file ends with a line break
    expect(lines).toHaveLength(20_001);
    expect(lines[0]).toBe('code,printed,serial,batch,sku\r');

    const codec = codecFromSecret(DEFAULT_SECRET);
    const seen = new Set<string>();
    for (let i = 1; i < lines.length; i++) {
      const [canonical, printed, serial] = lines[i]!.replace(/\r$/, '').split(',');
      const result = codec.verify(canonical!);
      if (!result.ok || result.serial !== i - 1 || printed !== formatCode(canonical!)) {
        throw new Error(`line ${i + 1} does not verify: ${lines[i]}`);
      }
      expect(Number(serial)).toBe(i - 1);
      seen.add(canonical!);
    }
    expect(seen.size).toBe(20_000);
  }, 60_000);

  it('honours --sku, --batch, --first-serial and --secret', async () => {
    const out = join(dir, 'small.csv');
    const args = ['generate', '--count', '3', '--out', out, '--sku', 'SKU,9', '--batch', 'B7', '--first-serial', '500'];
    const { code } = await cli([...args, '--secret', 'cli-test-secret-0123456789']);
    expect(code).toBe(0);
    const rows = (await readFile(out, 'utf8')).trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(3);
    const codec = codecFromSecret('cli-test-secret-0123456789');
    rows.forEach((row, i) => {
      expect(row.endsWith(`,${500 + i},B7,"SKU,9"`)).toBe(true);
      expect(codec.verify(row.split(',')[0]!)).toMatchObject({ ok: true, serial: 500 + i });
    });
  }, 60_000);

  it('verifies a code and reports a bad one', async () => {
    const good = codecFromSecret(DEFAULT_SECRET).encode(12345);
    const ok = await cli(['verify', formatCode(good).toLowerCase()]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, serial: 12345, keyId: 'A', canonical: good });

    const bad = await cli(['verify', good.slice(0, -1) + (good.endsWith('0') ? '1' : '0')]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ ok: false, reason: 'bad_tag' });
  }, 60_000);

  it('exits 2 with the usage on bad arguments', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['generate', '--out', join(dir, 'x.csv')],
      ['generate', '--count', 'ten', '--out', join(dir, 'x.csv')],
      ['generate', '--count', '10', '--out', join(dir, 'x.csv'), '--bogus'],
      ['generate', '--count', '10', '--out', join(dir, 'x.csv'), '--key-id', 'U'],
      ['verify'],
    ]) {
      const { code, stderr } = await cli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/Usage:/);
    }
  }, 120_000);
});
