/**
 * The local archive: newline-delimited JSON under a directory, partitioned as in S3
 * (`<dir>/<stream>/source=<s>/dt=<day>/part-<pid>-<start>.ndjson`), appended to. `npm start`
 * puts it in `<data dir>/archive` with `--data`, in a temporary directory otherwise
 * (local/start.ts). The file operations are a parameter so a test can wrap the real ones
 * (a full disk: ENOSPC from the real `appendFile`'s place).
 */
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveSink } from './archive.ts';
import type { RecordOf } from './records.ts';
import type { ArchiveStream } from './streams.ts';
import { eraseLines } from './erase.ts';

export interface FileOps {
  mkdir(path: string, opts: { recursive: true }): Promise<unknown>;
  appendFile(path: string, data: string): Promise<void>;
}

const PARTITION_VALUE = /^[A-Za-z0-9_.-]{1,64}$/;

export function fileSink(dir: string, ops: FileOps = fsp): ArchiveSink {
  const part = `part-${process.pid}-${Date.now()}.ndjson`;
  return {
    kind: 'file',
    erase: (match) => eraseLines(dir, match),
    async write<S extends ArchiveStream>(stream: S, records: readonly RecordOf<S>[]): Promise<void> {
      const byPartition = new Map<string, string[]>();
      for (const r of records) {
        // Partition values come from the hub's own source ids and ISO days; anything else is a bug, not a path.
        if (!PARTITION_VALUE.test(r.source) || !PARTITION_VALUE.test(r.dt)) throw new Error(`bad partition ${r.source}/${r.dt}`);
        const key = join(dir, stream, `source=${r.source}`, `dt=${r.dt}`);
        const lines = byPartition.get(key) ?? [];
        lines.push(JSON.stringify(r));
        byPartition.set(key, lines);
      }
      for (const [folder, lines] of byPartition) {
        await ops.mkdir(folder, { recursive: true });
        await ops.appendFile(join(folder, part), `${lines.join('\n')}\n`);
      }
    },
  };
}
