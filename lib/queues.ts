/**
 * The hub's SQS queues as data: their logical names, dead-letter settings and the environment
 * variable that carries each queue's URL. The CDK stack (stacks/hub-stack.ts), the local
 * emulators (local/emulators.ts `createQueues`), the manifest (lib/manifest.ts `consumes`,
 * `sends`, `redrives`) and scripts/redrive.ts all read this one list.
 */

export interface QueueSpec {
  /** Queue name without prefix; its dead-letter queue is `<name>-dlq`. */
  name: string;
  /** Receives before SQS moves a message to the dead-letter queue. */
  maxReceiveCount: number;
  /** Omitted: the SQS default (30 s). */
  visibilityTimeoutSeconds?: number;
  /** How long the dead-letter queue keeps messages (the SQS maximum, 14 days). */
  dlqRetentionSeconds: number;
}

const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

/** The hub's queues, keyed by logical name. */
export const QUEUES = {
  engagement: { name: 'engagement', maxReceiveCount: 5, visibilityTimeoutSeconds: 30, dlqRetentionSeconds: FOURTEEN_DAYS },
  'staff-alerts': { name: 'staff-alerts', maxReceiveCount: 5, visibilityTimeoutSeconds: 30, dlqRetentionSeconds: FOURTEEN_DAYS },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = keyof typeof QUEUES;

/** Environment variable that carries each queue's URL (the names lib/config reads). */
export const QUEUE_URL_ENV: Record<QueueName, string> = {
  engagement: 'ENGAGEMENT_QUEUE_URL',
  'staff-alerts': 'STAFF_QUEUE_URL',
};

/** Full queue name: `<prefix>-<name>`, or `<name>` without a prefix. */
export function queueName(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}-${name}` : name;
}

/** Every queue with its logical name, in declaration order. */
export const queueEntries = (): [QueueName, QueueSpec][] => Object.entries(QUEUES) as [QueueName, QueueSpec][];

/** Whether `name` is a logical queue name of QUEUES. */
export const isQueueName = (name: string): name is QueueName => Object.hasOwn(QUEUES, name);
