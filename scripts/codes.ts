/**
 * One-code-per-item codes from the command line.
 *
 *   npm run codes -- generate --count 1000000 --out codes.csv [--sku X] [--batch B]
 *                             [--first-serial N] [--key-id A] [--secret S]
 *   npm run codes -- verify <code> [--key-id A] [--secret S]
 *
 * The secret defaults to $CODE_SIGNING_SECRET, then to the local default. `generate` streams the
 * CSV (lib/codes/csv.ts) to the file with backpressure, shows progress on stderr (a bar on a TTY,
 * a line every 10 % otherwise) and ends with count, seconds, codes/s and peak RSS on stdout.
 * `verify` prints the verification result as JSON; exit 0 when valid, 1 when not.
 * Bad arguments print the usage and exit 2.
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { codecFromSecret, formatCode, MAX_SERIAL, type Codec } from '../lib/codes/codec.ts';
import { codesCsv } from '../lib/codes/csv.ts';

const DEFAULT_SECRET = 'local-code-signing-secret-change-me';

const USAGE = `Usage:
  npm run codes -- generate --count <n> --out <file.csv> [options]
  npm run codes -- verify <code> [options]

generate options:
  --count <n>          number of codes (required, 1 … 2^53)
  --out <file>         CSV file to write (required)
  --sku <sku>          SKU column value (default: empty)
  --batch <id>         batch column value (default: batch-<first-serial>)
  --first-serial <n>   serial of the first code (default: 0); serials are global,
                       so ranges of different batches must not overlap
common options:
  --key-id <K>         active signing key id, one Crockford base32 character (default: A)
  --secret <s>         signing secret (default: $CODE_SIGNING_SECRET, else the local default)
  -h, --help           this text
`;

class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

function parseInteger(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer in [${min}, 2^53), got ${raw}`);
  return n;
}

function makeCodec(secretArg: string | undefined, keyId: string | undefined): Codec {
  const secret = secretArg ?? process.env.CODE_SIGNING_SECRET ?? DEFAULT_SECRET;
  if (secret.length === 0) fail('the signing secret is empty');
  try {
    return codecFromSecret(secret, (keyId ?? 'A').toUpperCase());
  } catch (err) {
    fail((err as Error).message);
  }
}

/** Progress on stderr: a bar on a TTY, otherwise one line per 10 %. */
function progressReporter(total: number): { update(done: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'codes [{bar}] {percentage}% | {value}/{total} | {eta}s left', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let lastTenth = 0;
  return {
    update(done) {
      const tenth = Math.min(10, Math.floor((done * 10) / total));
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`codes: ${tenth * 10}% (${done}/${total})\n`);
      }
    },
    stop() {},
  };
}

async function generate(values: Record<string, string | boolean | undefined>): Promise<void> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const count = parseInteger('count', str('count'), 1) ?? fail('--count is required');
  const out = str('out') ?? fail('--out is required');
  const firstSerial = parseInteger('first-serial', str('first-serial'), 0) ?? 0;
  if (firstSerial > MAX_SERIAL - (count - 1)) fail('--first-serial + --count - 1 exceeds 2^53 - 1');
  const codec = makeCodec(str('secret'), str('key-id'));
  const batchId = str('batch') ?? `batch-${firstSerial}`;
  const sku = str('sku') ?? '';
  if (str('first-serial') === undefined) {
    process.stderr.write('codes: --first-serial not given, starting at 0; serial ranges of batches must not overlap\n');
  }

  const progress = progressReporter(count);
  const started = process.hrtime.bigint();
  await pipeline(
    codesCsv(codec, { batchId, sku, firstSerial, count, onProgress: (done) => progress.update(done) }),
    createWriteStream(out),
  );
  progress.stop();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { size } = await stat(out);
  const peakRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  process.stdout.write(
    [
      `wrote ${out}`,
      `count: ${count}`,
      `serials: ${firstSerial} … ${firstSerial + count - 1} (key ${codec.activeKeyId})`,
      `seconds: ${seconds.toFixed(2)}`,
      `codes/s: ${Math.round(count / seconds)}`,
      `file size: ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes)`,
      `peak RSS: ${peakRssMiB.toFixed(1)} MiB`,
    ].join('\n') + '\n',
  );
}

function verify(code: string, values: Record<string, string | boolean | undefined>): number {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const codec = makeCodec(str('secret'), str('key-id'));
  const result = codec.verify(code);
  const printed = result.ok ? { ...result, printed: formatCode(result.canonical) } : result;
  process.stdout.write(JSON.stringify(printed) + '\n');
  return result.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        count: { type: 'string' },
        out: { type: 'string' },
        sku: { type: 'string' },
        batch: { type: 'string' },
        'first-serial': { type: 'string' },
        'key-id': { type: 'string' },
        secret: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  switch (command) {
    case 'generate':
      if (rest.length > 0) fail(`unexpected argument ${JSON.stringify(rest[0])}`);
      for (const k of ['count', 'out'] as const) if (values[k] === undefined) fail(`--${k} is required`);
      await generate(values);
      return 0;
    case 'verify':
      if (rest.length !== 1) fail('verify takes exactly one code');
      for (const k of ['count', 'out', 'sku', 'batch', 'first-serial'] as const) {
        if (values[k] !== undefined) fail(`--${k} does not apply to verify`);
      }
      return verify(rest[0]!, values);
    case undefined:
      return fail('missing command');
    default:
      fail(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`codes: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`codes: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
