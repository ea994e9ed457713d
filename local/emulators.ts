/**
 * Local stand-ins for the AWS services the hub uses, for `npm start` and the tests:
 *
 *   DynamoDB  DynamoDB Local (Java), fetched by scripts/setup-dynamodb.mjs into .cache/dynamodb/,
 *             listening on 127.0.0.1 only (as every local service: SQS, the stand-ins, the gateway)
 *   SQS       local-aws-sqs, an in-process HTTP server speaking the SQS JSON protocol
 *
 * Also what builds the hub's resources on them: `createTable` creates the single table from its
 * definition in lib/store/table.ts, `createQueues` the queues of lib/queues.ts with their
 * dead-letter queues (the CDK stack reads the same two definitions).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createSqsServer } from 'local-aws-sqs';
import { queueEntries, queueName, type QueueName } from '../lib/queues.ts';
import { TABLE, tableSchema } from '../lib/store/table.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where scripts/setup-dynamodb.mjs puts the emulator (never committed: the licence forbids it). */
export const DYNAMODB_LOCAL_DIR = join(ROOT, '.cache', 'dynamodb', 'emulator');
export const DYNAMODB_LOCAL_JAR = join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar');
const SETUP_SCRIPT = join(ROOT, 'scripts', 'setup-dynamodb.mjs');
const DYNAMODB_LOCAL_XML = join(ROOT, 'local', 'dynamodb-local.xml');

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface LocalEmulator {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** Stops the emulator and waits until it has gone. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Static credentials and region for talking to the emulators. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

// ---------------------------------------------------------------------------------------------
// Ports

/** Fails with a clear message when something already listens on the port. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use (another DynamoDB Local still running?); pick another port or pass 0`)
          : err,
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolveFree()));
  });
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close((err) => (err ? reject(err) : resolvePort(port)));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Child-process bookkeeping: no java process may outlive this one.

/** Running java processes and the temporary cwd of each. */
const children = new Map<ChildProcess, string>();
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooksInstalled = false;

function killAllNow(): void {
  for (const [child, cwd] of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(cwd, { recursive: true, force: true });
  }
  children.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  uninstallHooks();
  // Keep the default behaviour (terminate) unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const sig of EXIT_SIGNALS) process.on(sig, onSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', killAllNow);
  for (const sig of EXIT_SIGNALS) process.off(sig, onSignal);
}

function track(child: ChildProcess, cwd: string): void {
  children.set(child, cwd);
  installHooks();
  child.once('exit', () => {
    children.delete(child);
    rmSync(cwd, { recursive: true, force: true });
    if (children.size === 0) uninstallHooks();
  });
}

// ---------------------------------------------------------------------------------------------
// DynamoDB Local

export interface DynamoLocalOptions {
  /** 0 or omitted: pick a free port. */
  port?: number;
  /** Persist to this folder (`-dbPath`) instead of memory. Disk mode is 3–4× slower on writes. */
  dataDir?: string;
}

/** Runs scripts/setup-dynamodb.mjs when the jar is not there yet. */
async function ensureJar(): Promise<void> {
  if (existsSync(DYNAMODB_LOCAL_JAR)) return;
  const output = await new Promise<{ code: number | null; text: string }>((resolveRun, reject) => {
    const child = spawn(process.execPath, [SETUP_SCRIPT, '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, text }));
  });
  if (!existsSync(DYNAMODB_LOCAL_JAR)) {
    throw new Error(`DynamoDB Local is not installed and setup failed (exit ${output.code}):\n${output.text.trim()}\nRun: npm run setup`);
  }
}

function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    ...LOCAL_AWS,
    endpoint,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 500, requestTimeout: 2_000 }),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts DynamoDB Local (`-sharedDb`, in memory unless `dataDir` is given) and resolves once a
 * real ListTables call succeeds. The process runs with its cwd in a temporary folder outside the
 * repo, because it writes dynamodb-local-metadata.json into its cwd.
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<LocalEmulator> {
  await ensureJar();
  const pickPort = !options.port;
  // Otherwise the readiness probe could be answered by whatever already holds the port.
  if (options.port) await assertPortFree(options.port);
  // A picked port can be taken between the probe and java's bind: retry with another one.
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    try {
      return await launchDynamo(port, options.dataDir);
    } catch (err) {
      if (pickPort && attempt < 3 && err instanceof PortInUseError) continue;
      throw err;
    }
  }
}

class PortInUseError extends Error {}

async function launchDynamo(port: number, dataDir: string | undefined): Promise<LocalEmulator> {
  const cwd = mkdtempSync(join(tmpdir(), 'dynamodb-local-'));
  const storage = dataDir ? ['ddb.inMemory=false', `ddb.dbPath=${resolve(dataDir)}`] : ['ddb.inMemory=true'];
  if (dataDir) mkdirSync(resolve(dataDir), { recursive: true });
  // Bound to 127.0.0.1 only: DynamoDB Local's own launcher listens on every interface, so it is
  // started through Jetty's XmlConfiguration with local/dynamodb-local.xml (shared database, no
  // telemetry: the launcher that would send it is not used).
  const lib = join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal_lib');
  const args = [
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${lib}`,
    '-cp',
    [DYNAMODB_LOCAL_JAR, join(lib, '*')].join(delimiter),
    'org.eclipse.jetty.xml.XmlConfiguration',
    DYNAMODB_LOCAL_XML,
    'ddb.host=127.0.0.1',
    `ddb.port=${port}`,
    ...storage,
  ];

  const child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, cwd);

  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
    if (output.length > 64_000) output = output.slice(-32_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const tail = () => output.trim().split('\n').slice(-15).join('\n') || '(no output)';

  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => resolveExit());
    child.once('error', (err) => {
      spawnError = err;
      resolveExit();
    });
  });
  const isRunning = () => !spawnError && child.exitCode === null && child.signalCode === null;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (isRunning()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (isRunning()) child.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
      if (children.size === 0) uninstallHooks();
      rmSync(cwd, { recursive: true, force: true });
    })();
    return stopping;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (!isRunning()) {
        await exited;
        if (spawnError) {
          const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
          throw new Error(
            missing
              ? 'DynamoDB Local needs Java 17+, but `java` was not found on PATH (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)'
              : `could not start java: ${spawnError.message}`,
          );
        }
        const msg = `DynamoDB Local exited during startup (code ${child.exitCode}, signal ${child.signalCode}) on port ${port}:\n${tail()}`;
        throw /address already in use|BindException/i.test(output) ? new PortInUseError(msg) : new Error(msg);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        if (isRunning()) break;
        continue; // it answered but our process died: report why
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB Local did not answer ListTables on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s:\n${tail()}`);
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }

  return { endpoint, port, stop };
}

// ---------------------------------------------------------------------------------------------
// SQS

export interface SqsLocalOptions {
  /** 0 or omitted: pick a free port. */
  port?: number;
  /**
   * AWS refuses to re-create a queue name within 60 s of deleting it. Off by default here so
   * tests and restarts can reuse names.
   */
  emulateQueueCreationLifecycle?: boolean;
}

/** Starts local-aws-sqs in this process. Queue URLs it hands out point at 127.0.0.1:<port>. */
export async function startSqsLocal(options: SqsLocalOptions = {}): Promise<LocalEmulator> {
  const server: Server = await createSqsServer({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    region: LOCAL_AWS.region,
    emulateQueueCreationLifecycle: options.emulateQueueCreationLifecycle ?? false,
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolveClose) => {
      server.close(() => resolveClose());
      // Keep-alive sockets from SDK clients would hold close() open.
      server.closeAllConnections();
    });
    return stopping;
  };
  return { endpoint: `http://127.0.0.1:${port}`, port, stop };
}

// ---------------------------------------------------------------------------------------------
// Table

/**
 * Creates the single table as lib/store/table.ts defines it (pk/sk, GSI gsi1 on gsi1pk/gsi1sk
 * projecting ALL, on-demand) and enables TTL on its TTL attribute. Idempotent: an existing table
 * is left as it is.
 */
export async function createTable(client: DynamoDBClient | DynamoDBDocumentClient, tableName: string): Promise<void> {
  // A document client shares the base client's config and middleware, so it can send the
  // control-plane commands too; its types only list the document commands.
  const ddb = client as unknown as DynamoDBClient;
  try {
    await ddb.send(new CreateTableCommand({ TableName: tableName, ...tableSchema() }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  // DynamoDB Local reports ACTIVE at once; AWS takes a few seconds.
  await waitUntilTableExists({ client: ddb, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: tableName });

  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if ((status === 'ENABLED' || status === 'ENABLING') && ttl.TimeToLiveDescription?.AttributeName === TABLE.timeToLiveAttribute) return;
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE.timeToLiveAttribute, Enabled: true },
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Queues

export interface QueueRefs {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

async function createOne(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes ${name} returned no QueueArn`);
  return { url, arn };
}

/**
 * Creates every queue of lib/queues.ts, each with its dead-letter queue and redrive policy.
 * Idempotent as CreateQueue is: same name and attributes return the existing queue.
 */
export async function createQueues(sqs: SQSClient, options: { prefix?: string } = {}): Promise<Record<QueueName, QueueRefs>> {
  const out = {} as Record<QueueName, QueueRefs>;
  for (const [logical, spec] of queueEntries()) {
    const name = queueName(options.prefix, spec.name);
    const dlq = await createOne(sqs, `${name}-dlq`, { MessageRetentionPeriod: String(spec.dlqRetentionSeconds) });
    const attributes: Record<string, string> = {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: spec.maxReceiveCount }),
    };
    if (spec.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(spec.visibilityTimeoutSeconds);
    const main = await createOne(sqs, name, attributes);
    out[logical] = { url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  }
  return out;
}

/** Messages a queue holds: waiting, in flight (received, not yet deleted) and delayed. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  const a = attrs.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}
