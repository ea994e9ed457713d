/**
 * The archive's part of the stack (stacks/archive.ts): the encrypted bucket with its lifecycle
 * from the stage, a Firehose delivery stream per archive stream partitioned like the local
 * archive, a Glue table per stream with exactly the columns of lib/archive/streams.ts (those of
 * the local DuckDB views), the Athena workgroup, and least-privilege grants: each function may
 * PutRecordBatch only on the streams its manifest entry names, Firehose may write only its
 * prefixes. Expectations come from the manifest, the stream definitions and cdk.json.
 */
import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/manifest.ts';
import { ARCHIVE_SOURCES, ARCHIVE_STREAM_NAMES, PARTITION_KEYS, STREAM_COLUMNS } from '../../lib/archive/streams.ts';
import { hubStackProps, stageConfig } from '../../stacks/config.ts';
import { HubStack, pascal } from '../../stacks/hub-stack.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Json };
const cfg = stageConfig(cdkJson.context.stages, 'dev');
const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
const stack = new HubStack(app, 'ArchiveDev', { ...hubStackProps('dev', cfg), env: { account: '111111111111', region: cfg.region } });
const t = Template.fromStack(stack);
const resources = (type: string) => Object.entries(t.findResources(type) as Record<string, Json>);
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
/** The logical id of a construct's CloudFormation resource. */
const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.resolve((c.node.defaultChild as CfnElement).logicalId) as string;
const bucketId = logicalId(stack.archive.bucket);

/** Every statement of the inline policies attached to a role. */
function statementsOf(roleId: string): Json[] {
  return resources('AWS::IAM::Policy')
    .filter(([, p]) => asArray(p.Properties.Roles).some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
}

describe('the archive in the stack', () => {
  it('keeps the bucket encrypted, TLS-only, private, versioned, to IA and expiring as the stage says', () => {
    const [, bucket] = resources('AWS::S3::Bucket').find(([id]) => id === bucketId)!;
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const rule = (bucket.Properties.LifecycleConfiguration.Rules as Json[]).find((r) => r.Id === 'archive-retention')!;
    expect(rule.Transitions).toEqual([{ StorageClass: 'STANDARD_IA', TransitionInDays: cfg.archive.infrequentAccessAfterDays }]);
    expect(rule.ExpirationInDays).toBe(cfg.archive.retentionDays);
    expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toBeDefined();
    // TLS only: a Deny on aws:SecureTransport false.
    const policy = resources('AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === bucketId)![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
  });

  it('has one encrypted Firehose delivery stream per archive stream, partitioned by source and dt', () => {
    const streams = resources('AWS::KinesisFirehose::DeliveryStream');
    expect(streams.map(([, s]) => s.Properties.DeliveryStreamName).sort()).toEqual(ARCHIVE_STREAM_NAMES.map((s) => `scrm-hub-dev-${s}`).sort());
    for (const [, s] of streams) {
      const stream = String(s.Properties.DeliveryStreamName).replace('scrm-hub-dev-', '');
      const dest = s.Properties.ExtendedS3DestinationConfiguration;
      expect(s.Properties.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
      expect(dest.Prefix).toBe(`${stream}/source=!{partitionKeyFromQuery:source}/dt=!{partitionKeyFromQuery:dt}/`);
      expect(dest.DynamicPartitioningConfiguration.Enabled).toBe(true);
      expect(dest.BufferingHints.IntervalInSeconds).toBe(cfg.archive.bufferSeconds);
      expect(dest.BucketARN).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
    }
  });

  it('has a Glue table per stream with the columns of the local DuckDB views, projected partitions', () => {
    const tables = resources('AWS::Glue::Table');
    expect(tables.map(([, x]) => x.Properties.TableInput.Name).sort()).toEqual([...ARCHIVE_STREAM_NAMES].sort());
    for (const [, x] of tables) {
      const input = x.Properties.TableInput;
      const stream = input.Name as (typeof ARCHIVE_STREAM_NAMES)[number];
      expect(input.StorageDescriptor.Columns.map((c: Json) => [c.Name, c.Type])).toEqual(STREAM_COLUMNS[stream].map((c) => [c.name, c.type]));
      expect(input.PartitionKeys.map((c: Json) => c.Name)).toEqual(PARTITION_KEYS.map((c) => c.name));
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
      expect(input.Parameters['projection.enabled']).toBe('true');
      expect(input.Parameters['projection.source.values']).toBe(ARCHIVE_SOURCES.join(','));
    }
    t.resourceCountIs('AWS::Glue::Database', 1);
  });

  it('has an Athena workgroup with enforced, encrypted results in the bucket and a scan cutoff', () => {
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'scrm-hub-dev-archive',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: Match.anyValue(),
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_S3' }, OutputLocation: Match.anyValue() },
      }),
    });
  });

  it('grants PutRecordBatch on exactly the streams each function archives, and nothing else of the archive', () => {
    const streamIds = new Map(resources('AWS::KinesisFirehose::DeliveryStream').map(([id, s]) => [String(s.Properties.DeliveryStreamName).replace('scrm-hub-dev-', ''), id]));
    for (const spec of FUNCTIONS) {
      const roleId = logicalId(stack.functions.get(spec.name)!.role);
      const statements = statementsOf(roleId);
      const firehose = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('firehose:')));
      const expected = (spec.archives ?? []).map((s) => streamIds.get(s)).sort();
      if (!expected.length) {
        expect(firehose, spec.name).toEqual([]);
        continue;
      }
      expect(firehose.flatMap((s) => asArray<string>(s.Action)), spec.name).toEqual(['firehose:PutRecordBatch']);
      expect(firehose.flatMap((s) => asArray<Json>(s.Resource)).map((r) => r['Fn::GetAtt'][0]).sort(), spec.name).toEqual(expected);
      // No function touches the bucket itself.
      expect(JSON.stringify(statements).includes(bucketId), spec.name).toBe(false);
    }
    // Every webhook source archives both streams; the apply-calling functions their events.
    expect(FUNCTIONS.filter((f) => f.archives?.includes('requests')).map((f) => f.name)).toEqual(['wechat', 'tmall', 'jd', 'youzan', 'wecom']);
  });

  it("limits Firehose's role to its prefixes of the archive bucket and its log streams", () => {
    const roleId = logicalId(stack.archive.firehoseRole);
    const statements = statementsOf(roleId);
    const actions = new Set(statements.flatMap((s) => asArray<string>(s.Action)));
    expect([...actions].sort()).toEqual(['logs:PutLogEvents', 's3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:PutObject']);
    const objectResources = statements.filter((s) => asArray<string>(s.Action).includes('s3:PutObject')).flatMap((s) => asArray<Json>(s.Resource));
    const suffixes = objectResources.map((r) => r['Fn::Join'][1][1]).sort();
    expect(suffixes).toEqual(ARCHIVE_STREAM_NAMES.flatMap((s) => [`/${s}/*`, `/errors/${s}/*`]).sort());
    const role = resources('AWS::IAM::Role').find(([id]) => id === roleId)![1];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'firehose.amazonaws.com' });
  });

  it('gives every archiving function the names of its delivery streams', () => {
    for (const spec of FUNCTIONS.filter((f) => f.archives?.length)) {
      const fn = resources('AWS::Lambda::Function').find(([id]) => id.startsWith(`${pascal(spec.name)}Function`))![1];
      const vars = fn.Properties.Environment.Variables as Json;
      expect(Boolean(vars.HUB_ARCHIVE_REQUESTS_STREAM), spec.name).toBe(spec.archives!.includes('requests'));
      expect(Boolean(vars.HUB_ARCHIVE_EVENTS_STREAM), spec.name).toBe(spec.archives!.includes('events'));
    }
  });
});
