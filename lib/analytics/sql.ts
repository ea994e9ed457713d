/**
 * SQL over the local archive with DuckDB (`@duckdb/node-api`): one view per archive stream,
 * named and typed exactly as the Glue tables of the stack (lib/archive/streams.ts), with the
 * `source` and `dt` partitions read from the folder names as Athena reads them from the S3
 * prefixes. So a query written here runs on Athena unchanged, as long as it keeps to the SQL
 * both engines share (the saved queries in queries/ do). Like the Glue tables, the views show
 * every record as delivered (at-least-once): queries count DISTINCT ids.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ARCHIVE_STREAM_NAMES, duckdbType, PARTITION_KEYS, STREAM_COLUMNS, type ArchiveStream } from '../archive/streams.ts';

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

function hasFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.ndjson')) return true;
  return false;
}

/** The CREATE VIEW of a stream over `<archiveDir>/<stream>/source=*\/dt=*\/*.ndjson` (an empty view when nothing is archived yet). */
export function viewSql(archiveDir: string, stream: ArchiveStream): string {
  const cols = STREAM_COLUMNS[stream];
  const root = join(archiveDir, stream);
  if (!hasFiles(root)) {
    const all = [...cols, ...PARTITION_KEYS].map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${c.name}`).join(', ');
    return `CREATE OR REPLACE VIEW ${stream} AS SELECT ${all} WHERE false`;
  }
  const columns = cols.map((c) => `${c.name}: ${quote(duckdbType(c.type))}`).join(', ');
  const glob = join(root, 'source=*', 'dt=*', '*.ndjson');
  return `CREATE OR REPLACE VIEW ${stream} AS SELECT ${[...cols, ...PARTITION_KEYS].map((c) => c.name).join(', ')} FROM read_json(${quote(glob)}, format = 'newline_delimited', hive_partitioning = true, hive_types = {'source': 'VARCHAR', 'dt': 'VARCHAR'}, columns = {${columns}})`;
}

export interface SqlSession {
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/** A DuckDB in memory with the archive's views. */
export async function openArchiveSql(archiveDir: string): Promise<SqlSession> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await instance.connect();
  for (const stream of ARCHIVE_STREAM_NAMES) await conn.run(viewSql(archiveDir, stream));
  return {
    async query(sql: string) {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
