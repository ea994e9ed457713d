/**
 * The archive in AWS (docs/architecture.md#archive): one S3 bucket (SSE-S3, TLS only, public
 * access blocked, versioned; objects to Standard-IA after the stage's
 * `archive.infrequentAccessAfterDays`, deleted after `archive.retentionDays`), a Kinesis Data
 * Firehose delivery stream per archive stream (Direct PUT, SSE, dynamic partitioning on the
 * records' own `source` and `dt` into `<stream>/source=<source>/dt=<day>/`), a Glue database
 * with one table per stream whose columns are those of lib/archive/streams.ts (the same the
 * local DuckDB views have) and partition projection (no crawler, no MSCK REPAIR), and an Athena
 * workgroup whose results are encrypted into the bucket's `athena-results/` and expire.
 *
 * Least privilege: Firehose's role may write only its stream's prefixes and its log stream;
 * each function is granted PutRecordBatch on the delivery streams its manifest entry names
 * (`archives`); analysts get the managed policy `ArchiveAnalystPolicy` (query the workgroup,
 * read the catalog and the archive, write query results), attached to nobody by the stack.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, LogStream, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_SOURCES, ARCHIVE_STREAM_NAMES, PARTITION_KEYS, STREAM_COLUMNS, type ArchiveStream } from '../lib/archive/streams.ts';
import type { ArchiveSettings } from './config.ts';

/** What a function may do with its delivery streams. */
export const ARCHIVE_WRITE_ACTIONS = ['firehose:PutRecordBatch'] as const;
/** Query results kept this long. */
export const ATHENA_RESULTS_DAYS = 30;
/** Largest scan of one Athena query (10 GiB): a runaway query is cancelled, not billed on. */
export const ATHENA_BYTES_SCANNED_CUTOFF = 10 * 1024 ** 3;
/** Dynamic partitioning needs at least 64 MiB buffers. */
const BUFFER_MB = 64;
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

export interface ArchiveProps {
  prefix: string;
  stageName: string;
  settings: ArchiveSettings;
  removalPolicy: RemovalPolicy;
  logRetention: RetentionDays;
}

export class HubArchiveStore extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;
  readonly deliveryStreams = {} as Record<ArchiveStream, CfnDeliveryStream>;
  readonly firehoseRole: Role;
  readonly database: CfnDatabase;
  readonly databaseName: string;
  /** The ARN pattern of the database's tables (the analyst policy's grant). */
  readonly tablesArn: string;
  readonly tables = {} as Record<ArchiveStream, CfnTable>;
  readonly workgroup: CfnWorkGroup;
  readonly analystPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.settings.retentionDays) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'archive-retention',
          transitions: [{ storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.settings.infrequentAccessAfterDays) }],
          expiration: Duration.days(props.settings.retentionDays),
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'athena-results', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(ATHENA_RESULTS_DAYS) },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });

    // --- Firehose: one delivery stream per archive stream, its own log stream, one role.
    const logGroup = new LogGroup(this, 'FirehoseLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.firehoseRole = new Role(this, 'FirehoseRole', {
      assumedBy: new ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `SCRM Hub ${props.stageName}: Firehose delivery of the archive streams to their S3 prefixes`,
    });
    this.firehoseRole.addToPolicy(new PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [this.bucket.bucketArn] }));
    for (const stream of ARCHIVE_STREAM_NAMES) {
      const logStream = new LogStream(this, `${title(stream)}DeliveryLog`, { logGroup, logStreamName: `${stream}-delivery`, removalPolicy: props.removalPolicy });
      this.firehoseRole.addToPolicy(
        new PolicyStatement({
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [this.bucket.arnForObjects(`${stream}/*`), this.bucket.arnForObjects(`errors/${stream}/*`)],
        }),
      );
      this.firehoseRole.addToPolicy(
        new PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
      );
      const ds = new CfnDeliveryStream(this, `${title(stream)}DeliveryStream`, {
        deliveryStreamName: `${props.prefix}-${stream}`,
        deliveryStreamType: 'DirectPut',
        deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
        extendedS3DestinationConfiguration: {
          bucketArn: this.bucket.bucketArn,
          roleArn: this.firehoseRole.roleArn,
          prefix: `${stream}/source=!{partitionKeyFromQuery:source}/dt=!{partitionKeyFromQuery:dt}/`,
          errorOutputPrefix: `errors/${stream}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
          fileExtension: '.ndjson',
          compressionFormat: 'UNCOMPRESSED',
          bufferingHints: { intervalInSeconds: props.settings.bufferSeconds, sizeInMBs: BUFFER_MB },
          cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
          dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
          processingConfiguration: {
            enabled: true,
            processors: [
              {
                type: 'MetadataExtraction',
                parameters: [
                  { parameterName: 'MetadataExtractionQuery', parameterValue: '{source:.source,dt:.dt}' },
                  { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
                ],
              },
            ],
          },
        },
      });
      ds.node.addDependency(this.firehoseRole);
      this.deliveryStreams[stream] = ds;
    }

    // --- Glue: the tables Athena reads, with the columns of the local DuckDB views.
    const dbName = `${props.prefix.replaceAll('-', '_')}_archive`;
    this.databaseName = dbName;
    this.tablesArn = stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${dbName}/*` });
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: dbName, description: `SCRM Hub ${props.stageName}: raw webhook requests and answered events (docs/architecture.md#archive)` },
    });
    for (const stream of ARCHIVE_STREAM_NAMES) {
      const location = `s3://${this.bucket.bucketName}/${stream}/`;
      const table = new CfnTable(this, `${title(stream)}Table`, {
        catalogId: stack.account,
        databaseName: dbName,
        tableInput: {
          name: stream,
          description: `SCRM Hub archive stream ${stream} (lib/archive/streams.ts)`,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            classification: 'json',
            'projection.enabled': 'true',
            'projection.source.type': 'enum',
            'projection.source.values': ARCHIVE_SOURCES.join(','),
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': '2024-01-01,NOW',
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'storage.location.template': `${location}source=\${source}/dt=\${dt}/`,
          },
          partitionKeys: PARTITION_KEYS.map((c) => ({ name: c.name, type: c.type, comment: c.comment })),
          storageDescriptor: {
            location,
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'false' } },
            columns: STREAM_COLUMNS[stream].map((c) => ({ name: c.name, type: c.type, comment: c.comment.slice(0, 255) })),
          },
        },
      });
      table.node.addDependency(this.database);
      this.tables[stream] = table;
    }

    // --- Athena: the workgroup analysts use, its settings enforced.
    this.workgroup = new CfnWorkGroup(this, 'Workgroup', {
      name: `${props.prefix}-archive`,
      description: `SCRM Hub ${props.stageName}: SQL over the archive (queries/ in the repository)`,
      recursiveDeleteOption: destroy,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: ATHENA_BYTES_SCANNED_CUTOFF,
        resultConfiguration: {
          outputLocation: `s3://${this.bucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const workgroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroup.name });
    this.analystPolicy = new ManagedPolicy(this, 'AnalystPolicy', {
      managedPolicyName: `${props.prefix}-archive-analyst`,
      description: `SCRM Hub ${props.stageName}: run Athena queries over the archive in its workgroup`,
      statements: [
        new PolicyStatement({
          actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
          resources: [workgroupArn],
        }),
        new PolicyStatement({
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            stack.formatArn({ service: 'glue', resource: 'database', resourceName: dbName }),
            this.tablesArn,
          ],
        }),
        new PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [this.bucket.bucketArn] }),
        new PolicyStatement({ actions: ['s3:GetObject'], resources: ARCHIVE_STREAM_NAMES.map((s) => this.bucket.arnForObjects(`${s}/*`)) }),
        new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: [this.bucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`)] }),
      ],
    });
  }

  /** The delivery stream's ARN. */
  streamArn(stream: ArchiveStream): string {
    return this.deliveryStreams[stream].attrArn;
  }
}

const title = (s: string) => s[0]!.toUpperCase() + s.slice(1);
