/** The request body of a stand-in as text; past `limit` bytes the request is dropped and `tooLarge()` is the rejection. */
import type { IncomingMessage } from 'node:http';

export function readBody(req: IncomingMessage, tooLarge: () => Error, limit = 1_048_576): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
