/**
 * One DynamoDB transaction, built up by the domain planners and committed once.
 *
 * DynamoDB forbids two operations on the same item in one transaction, so counter increments
 * are merged per key (`add`), and every other write is keyed and checked for collisions.
 */
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { classifyStoreError, TxTooLargeError } from './errors.ts';
import type { Key } from './keys.ts';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit on items per TransactWriteItems. */
export const MAX_TX_ITEMS = 100;

const keyString = (k: Key) => `${k.pk}\u0000${k.sk}`;

export class Tx {
  private readonly items: { tag: string; item: TxItem; key: string }[] = [];
  private readonly counters = new Map<string, { key: Key; adds: Record<string, number>; sets: Record<string, unknown> }>();

  constructor(private readonly table: string) {}

  get size(): number {
    return this.items.length + this.counters.size;
  }

  private push(tag: string, key: Key, item: TxItem): this {
    const ks = keyString(key);
    if (this.items.some((i) => i.key === ks) || this.counters.has(ks)) {
      throw new Error(`two writes to one item in a transaction: ${key.pk} ${key.sk} (${tag})`);
    }
    this.items.push({ tag, item, key: ks });
    return this;
  }

  /** Put a new item; fails the transaction (tagged) if it exists. */
  create(tag: string, key: Key, attrs: Record<string, unknown>): this {
    return this.push(tag, key, {
      Put: {
        TableName: this.table,
        Item: { ...attrs, ...key },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
  }

  /** Put (replace) an item, optionally under a condition. */
  put(tag: string, key: Key, attrs: Record<string, unknown>, condition?: Condition): this {
    return this.push(tag, key, {
      Put: {
        TableName: this.table,
        Item: { ...attrs, ...key },
        ...conditionParts(condition),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
  }

  /** A raw update expression on one item. */
  update(
    tag: string,
    key: Key,
    expr: { update: string; names?: Record<string, string>; values?: Record<string, unknown> },
    condition?: Condition,
  ): this {
    const names = { ...expr.names, ...condition?.names };
    const values = { ...expr.values, ...condition?.values };
    return this.push(tag, key, {
      Update: {
        TableName: this.table,
        Key: key,
        UpdateExpression: expr.update,
        ...(condition ? { ConditionExpression: condition.expr } : {}),
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
  }

  delete(tag: string, key: Key, condition?: Condition): this {
    return this.push(tag, key, {
      Delete: { TableName: this.table, Key: key, ...conditionParts(condition), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
    });
  }

  check(tag: string, key: Key, condition: Condition): this {
    return this.push(tag, key, {
      ConditionCheck: {
        TableName: this.table,
        Key: key,
        ConditionExpression: condition.expr,
        ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
        ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
  }

  /** Atomic counter increments; several calls on one key merge into one update. */
  add(key: Key, adds: Record<string, number>, setIfMissing: Record<string, unknown> = {}): this {
    const ks = keyString(key);
    if (this.items.some((i) => i.key === ks)) throw new Error(`counter key also written otherwise: ${key.pk} ${key.sk}`);
    const entry = this.counters.get(ks) ?? { key, adds: {}, sets: {} };
    for (const [attr, n] of Object.entries(adds)) entry.adds[attr] = (entry.adds[attr] ?? 0) + n;
    Object.assign(entry.sets, setIfMissing);
    this.counters.set(ks, entry);
    return this;
  }

  /** The TransactItems with tags, counters last. */
  build(): { tags: string[]; items: TxItem[] } {
    const tags = this.items.map((i) => i.tag);
    const items = this.items.map((i) => i.item);
    for (const { key, adds, sets } of this.counters.values()) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const addParts: string[] = [];
      const setParts: string[] = [];
      let i = 0;
      for (const [attr, n] of Object.entries(adds)) {
        if (n === 0) continue;
        names[`#a${i}`] = attr;
        values[`:a${i}`] = n;
        addParts.push(`#a${i} :a${i}`);
        i++;
      }
      for (const [attr, v] of Object.entries(sets)) {
        names[`#s${i}`] = attr;
        values[`:s${i}`] = v;
        setParts.push(`#s${i} = if_not_exists(#s${i}, :s${i})`);
        i++;
      }
      if (!addParts.length && !setParts.length) continue;
      const update = [setParts.length ? `SET ${setParts.join(', ')}` : '', addParts.length ? `ADD ${addParts.join(', ')}` : '']
        .filter(Boolean)
        .join(' ');
      tags.push(`counter:${key.pk}:${key.sk}`);
      items.push({
        Update: {
          TableName: this.table,
          Key: key,
          UpdateExpression: update,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      });
    }
    return { tags, items };
  }

  /**
   * Commits. A failed condition becomes TxConditionFailed naming the planners' tags; throttling,
   * conflicts with another transaction and timeouts become TransientError (the caller retries).
   */
  async commit(client: DynamoDBDocumentClient, opts: { returnConsumedCapacity?: boolean } = {}): Promise<TxCommitInfo> {
    const { tags, items } = this.build();
    if (items.length === 0) return { items: 0, consumedWcu: 0 };
    if (items.length > MAX_TX_ITEMS) throw new TxTooLargeError(items.length, MAX_TX_ITEMS);
    try {
      const out = await client.send(
        new TransactWriteCommand({
          TransactItems: items,
          ...(opts.returnConsumedCapacity ? { ReturnConsumedCapacity: 'TOTAL' } : {}),
        }),
      );
      const consumedWcu = (out.ConsumedCapacity ?? []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
      return { items: items.length, consumedWcu };
    } catch (err) {
      throw classifyStoreError(err, tags);
    }
  }
}

export interface TxCommitInfo {
  items: number;
  consumedWcu: number;
}

export interface Condition {
  expr: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

function conditionParts(c?: Condition) {
  if (!c) return {};
  return {
    ConditionExpression: c.expr,
    ...(c.names && Object.keys(c.names).length ? { ExpressionAttributeNames: c.names } : {}),
    ...(c.values && Object.keys(c.values).length ? { ExpressionAttributeValues: c.values } : {}),
  };
}
