/**
 * The one definition of the hub's single DynamoDB table, as data: primary key, the sparse GSI
 * gsi1, the TTL attribute and the billing mode. The CDK stack (stacks/hub-stack.ts) builds the
 * deployed table from `TABLE`; the local emulator's `createTable` (local/emulators.ts) sends
 * `tableSchema()`, and the stack test expects that same schema on the synthesized table, so the
 * deployed table and the one every test runs against cannot drift apart. What the keys hold
 * (the item types) is documented in lib/store/keys.ts.
 */

/** DynamoDB scalar attribute types a key may have. */
export type KeyAttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  name: string;
  type: KeyAttributeType;
}

export interface GlobalSecondaryIndex {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /** Attributes copied into the index; the hub's index projects every attribute. */
  projection: 'ALL';
}

export interface TableDefinition {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  /** Number attribute holding an expiry in epoch seconds (DynamoDB deletes lazily: readers compare too). */
  timeToLiveAttribute: string;
  /** On-demand capacity: no provisioned throughput to size or autoscale. */
  billingMode: 'PAY_PER_REQUEST';
}

/** Name of the sparse global secondary index. */
export const GSI1 = 'gsi1';
/** The TTL attribute (epoch seconds). */
export const TTL_ATTRIBUTE = 'expiresAt';

export const TABLE = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: GSI1,
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
    },
  ],
  timeToLiveAttribute: TTL_ATTRIBUTE,
  billingMode: 'PAY_PER_REQUEST',
} as const satisfies TableDefinition;

/**
 * Every key attribute of the table and its indexes, each once, primary key first (the
 * `AttributeDefinitions` of CreateTable and of the CloudFormation resource).
 */
function keyAttributes(table: TableDefinition): KeyAttribute[] {
  const all = [table.partitionKey, table.sortKey, ...table.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])];
  const seen = new Map<string, KeyAttribute>();
  for (const a of all) {
    const prior = seen.get(a.name);
    if (prior && prior.type !== a.type) throw new Error(`key attribute ${a.name} declared as ${prior.type} and ${a.type}`);
    if (!prior) seen.set(a.name, a);
  }
  return [...seen.values()];
}

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

/**
 * The definition in the shape DynamoDB's CreateTable takes (less the table name), which is also
 * the shape of these properties on the CloudFormation table resource.
 */
export interface TableSchema {
  BillingMode: TableDefinition['billingMode'];
  AttributeDefinitions: { AttributeName: string; AttributeType: KeyAttributeType }[];
  KeySchema: KeySchemaElement[];
  GlobalSecondaryIndexes: { IndexName: string; KeySchema: KeySchemaElement[]; Projection: { ProjectionType: GlobalSecondaryIndex['projection'] } }[];
}

export function tableSchema(table: TableDefinition = TABLE): TableSchema {
  const keySchema = (hash: KeyAttribute, range: KeyAttribute): KeySchemaElement[] => [
    { AttributeName: hash.name, KeyType: 'HASH' },
    { AttributeName: range.name, KeyType: 'RANGE' },
  ];
  return {
    BillingMode: table.billingMode,
    AttributeDefinitions: keyAttributes(table).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: keySchema(g.partitionKey, g.sortKey),
      Projection: { ProjectionType: g.projection },
    })),
  };
}
