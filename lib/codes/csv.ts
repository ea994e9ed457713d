/**
 * Streaming CSV of a code batch for the printer. Header `code,printed,serial,batch,sku`, then one
 * row per serial: the canonical code first (what the hub stores and what import tools key on),
 * the hyphen-grouped printed form second. RFC 4180: CRLF line ends, fields holding a comma, a
 * double quote, CR or LF are quoted with inner quotes doubled; the batch id and SKU are text
 * cells with formula neutralisation (lib/csv.ts, shared with the attribution CSV).
 *
 * Codes are produced lazily, `chunkRows` rows per yielded string, so memory stays flat however
 * large the batch: consume it with backpressure (e.g. `stream.pipeline(codesCsv(...), file)`).
 */
import { BadRequestError } from '../errors.ts';
import { formatCode, MAX_SERIAL, type Codec } from './codec.ts';
import { csvText } from '../csv.ts';

export const CODES_CSV_HEADER = 'code,printed,serial,batch,sku';
const EOL = '\r\n';

export interface CodesCsvOptions {
  batchId: string;
  sku: string;
  /** Serial of the first row; rows take firstSerial, firstSerial + 1, … */
  firstSerial: number;
  /** Number of code rows (the header is extra). */
  count: number;
  /** Rows per yielded chunk (default 1000). */
  chunkRows?: number;
  /** Called after each chunk with the number of code rows produced so far. */
  onProgress?: (rowsDone: number) => void;
}

/** Checks the options; throws BadRequestError with the first problem. */
function checkOptions(o: CodesCsvOptions): number {
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!isCount(o.firstSerial)) throw new BadRequestError('firstSerial must be a non-negative integer', undefined, 'bad_serial');
  if (!isCount(o.count)) throw new BadRequestError('count must be a non-negative integer');
  if (o.count > 0 && o.firstSerial > MAX_SERIAL - (o.count - 1)) {
    throw new BadRequestError('firstSerial + count - 1 exceeds the largest serial (2^53 - 1)', undefined, 'bad_serial');
  }
  const chunkRows = o.chunkRows ?? 1000;
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new BadRequestError('chunkRows must be a positive integer');
  if (typeof o.batchId !== 'string' || typeof o.sku !== 'string') throw new BadRequestError('batchId and sku must be strings');
  return chunkRows;
}

/**
 * The batch's CSV as an async iterable of chunks (header in the first). Options are checked
 * eagerly, so a bad call throws here rather than on first iteration.
 */
export function codesCsv(codec: Codec, options: CodesCsvOptions): AsyncIterable<string> {
  const chunkRows = checkOptions(options);
  const { firstSerial, count, onProgress } = options;
  const tail = `,${csvText(options.batchId)},${csvText(options.sku)}${EOL}`;

  async function* chunks(): AsyncGenerator<string, void, undefined> {
    let done = 0;
    let chunk = CODES_CSV_HEADER + EOL;
    while (done < count) {
      const end = Math.min(count, done + chunkRows);
      for (let i = done; i < end; i++) {
        const serial = firstSerial + i;
        const code = codec.encode(serial);
        chunk += `${code},${formatCode(code)},${serial}${tail}`;
      }
      done = end;
      onProgress?.(done);
      yield chunk;
      chunk = '';
    }
    if (chunk !== '') yield chunk; // count = 0: header only
  }

  return chunks();
}
