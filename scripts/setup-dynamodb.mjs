#!/usr/bin/env node
/**
 * Fetches DynamoDB Local (the jar and its native libraries) into .cache/dynamodb/emulator/.
 *
 * The jar ships inside the npm package amplify-dynamodb-simulator. A normal install of that
 * package pulls about 280 JS dependencies, so this script only `npm pack`s the tarball, checks
 * its sha512 against the pinned value (hashing the file itself), and extracts `package/emulator/`.
 * The emulator is never committed: its licence forbids redistribution.
 *
 * Idempotent: when the jar is present and the marker file records the pinned integrity, it
 * exits 0 at once. Extraction goes to a temporary folder next to the target and is renamed into
 * place, so an interrupted run never leaves a half-written emulator folder behind.
 *
 * Usage: node scripts/setup-dynamodb.mjs [--quiet]
 *   --quiet  print a single line (used by npm postinstall)
 *
 * Exit codes: 0 ready; 1 download, integrity or extraction failure; 3 emulator ready but Java
 * (17 or newer) is missing or too old.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'amplify-dynamodb-simulator';
const VERSION = '2.9.30';
const INTEGRITY = 'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==';
const REQUIRED_JAVA = 17;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = join(ROOT, '.cache', 'dynamodb');
const EMULATOR_DIR = join(CACHE_DIR, 'emulator');
const JAR = join(EMULATOR_DIR, 'DynamoDBLocal.jar');
/** Lives inside the emulator folder, so the jar and the marker appear together on rename. */
const MARKER = join(EMULATOR_DIR, '.integrity.json');

const quiet = process.argv.includes('--quiet');
const started = Date.now();
const rel = (p) => relative(ROOT, p) || '.';
const log = (msg) => {
  if (!quiet) console.log(msg);
};

function fail(message, code = 1) {
  console.error(`setup-dynamodb: ${message}`);
  process.exit(code);
}

function isInstalled() {
  if (!existsSync(JAR) || !existsSync(MARKER)) return false;
  try {
    const marker = JSON.parse(readFileSync(MARKER, 'utf8'));
    return marker.integrity === INTEGRITY && marker.package === PACKAGE && marker.version === VERSION;
  } catch {
    return false;
  }
}

/** Returns { ok, major, detail }. `java -version` prints to stderr. */
function checkJava() {
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error) {
    const missing = res.error.code === 'ENOENT';
    return { ok: false, major: 0, detail: missing ? 'java not found on PATH' : `java -version failed: ${res.error.message}` };
  }
  const out = `${res.stderr ?? ''}${res.stdout ?? ''}`;
  if (res.status !== 0) return { ok: false, major: 0, detail: `java -version exited ${res.status}: ${out.trim().split('\n')[0] ?? ''}` };
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) return { ok: false, major: 0, detail: `could not read the Java version from: ${out.trim().split('\n')[0] ?? ''}` };
  // Old scheme: "1.8.0_x" means Java 8.
  const major = m[1] === '1' ? Number(m[2] ?? 0) : Number(m[1]);
  const line = out.trim().split('\n')[0] ?? '';
  return major >= REQUIRED_JAVA
    ? { ok: true, major, detail: line }
    : { ok: false, major, detail: `Java ${major} found (${line}), Java ${REQUIRED_JAVA} or newer is required` };
}

function javaAdvice(java) {
  return `${java.detail}. DynamoDB Local needs Java ${REQUIRED_JAVA}+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17).`;
}

/** Work dirs left by an interrupted run (older than an hour, so a concurrent run is safe). */
function removeStaleWorkDirs() {
  for (const name of readdirSync(CACHE_DIR)) {
    if (!name.startsWith('.tmp-')) continue;
    const dir = join(CACHE_DIR, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > 60 * 60 * 1000) rmSync(dir, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}

function sha512File(file) {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha512');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolvePromise(`sha512-${hash.digest('base64')}`));
  });
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    shell: process.platform === 'win32',
    ...opts,
  });
  if (res.error) {
    const why = res.error.code === 'ENOENT' ? `${cmd} not found on PATH` : res.error.message;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}`);
  }
  if (res.status !== 0) {
    const tail = (res.stderr || res.stdout || '').trim().split('\n').slice(-8).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}\n${tail}`);
  }
  return res.stdout;
}

async function install(workDir) {
  // 1. Download the tarball only (no dependency install).
  log(`Fetching ${PACKAGE}@${VERSION} with npm pack (about 57 MB)…`);
  const packOut = run('npm', ['pack', `${PACKAGE}@${VERSION}`, '--json', '--pack-destination', workDir]);
  let filename = `${PACKAGE}-${VERSION}.tgz`;
  let reported;
  try {
    const info = JSON.parse(packOut.slice(packOut.indexOf('[')));
    if (Array.isArray(info) && info[0]) {
      if (typeof info[0].filename === 'string') filename = info[0].filename;
      reported = info[0].integrity;
    }
  } catch {
    // The file on disk is what gets verified; npm's JSON is only a cross-check.
  }
  const tarball = join(workDir, filename);
  if (!existsSync(tarball)) throw new Error(`npm pack reported success but ${rel(tarball)} does not exist`);

  // 2. Verify the bytes on disk against the pinned integrity.
  const actual = await sha512File(tarball);
  if (actual !== INTEGRITY) {
    rmSync(tarball, { force: true });
    throw new Error(
      `integrity mismatch for ${PACKAGE}@${VERSION}\n  expected ${INTEGRITY}\n  actual   ${actual}` +
        (reported && reported !== actual ? `\n  npm said ${reported}` : '') +
        '\nThe tarball was deleted and nothing was installed.',
    );
  }
  if (reported && reported !== INTEGRITY) log(`note: npm reported integrity ${reported}; the file itself matches the pin`);
  log(`Verified ${filename} (${INTEGRITY.slice(0, 24)}…)`);

  // 3. Extract only package/emulator/ into the work dir, then write the marker inside it.
  const extractDir = join(workDir, 'x');
  mkdirSync(extractDir);
  run('tar', ['-xzf', tarball, '-C', extractDir, 'package/emulator']);
  rmSync(tarball, { force: true });
  const staged = join(extractDir, 'package', 'emulator');
  if (!existsSync(join(staged, 'DynamoDBLocal.jar'))) throw new Error('the tarball has no package/emulator/DynamoDBLocal.jar');
  writeFileSync(
    join(staged, '.integrity.json'),
    `${JSON.stringify({ package: PACKAGE, version: VERSION, integrity: INTEGRITY, verifiedAt: new Date().toISOString() }, null, 2)}\n`,
  );

  // 4. Move it into place. Another run that finished first wins; a stale or unverified folder
  //    is moved aside (and deleted with the work dir).
  if (isInstalled()) return;
  if (existsSync(EMULATOR_DIR)) renameSync(EMULATOR_DIR, join(workDir, 'old'));
  try {
    renameSync(staged, EMULATOR_DIR);
  } catch (err) {
    // Another setup run finished first: accept its result when it is verified.
    if (!isInstalled()) throw err;
  }
}

async function main() {
  if (isInstalled()) {
    if (quiet) console.log(`DynamoDB Local already installed in ${rel(EMULATOR_DIR)} (sha512 verified)`);
    else log(`DynamoDB Local is already installed and verified: ${rel(JAR)}`);
    return;
  }

  const java = checkJava();
  if (!java.ok) log(`WARNING: ${javaAdvice(java)} Fetching the emulator anyway.`);
  else log(`Java OK: ${java.detail}`);

  mkdirSync(CACHE_DIR, { recursive: true });
  removeStaleWorkDirs();
  const workDir = mkdtempSync(join(CACHE_DIR, '.tmp-'));
  let error;
  try {
    await install(workDir);
  } catch (err) {
    error = err;
  }
  rmSync(workDir, { recursive: true, force: true });
  if (error) fail(error instanceof Error ? error.message : String(error));

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (quiet) {
    console.log(
      `DynamoDB Local installed in ${rel(EMULATOR_DIR)} (sha512 verified, ${secs} s)` +
        (java.ok ? '' : `; WARNING: ${java.detail}, Java ${REQUIRED_JAVA}+ is required to run it`),
    );
  } else {
    log(`DynamoDB Local installed: ${rel(JAR)} (${secs} s)`);
  }
  if (!java.ok) fail(javaAdvice(java), 3);
}

await main();
