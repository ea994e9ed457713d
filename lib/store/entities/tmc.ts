/**
 * TMC confirm rows: a Tmall message (TOP `taobao.tmc.messages.consume`) whose event committed
 * and whose confirm is still owed (lib/sources/tmall/pull.ts).
 *
 *   TMCMSG#<messageId> | #
 */
import { ROOT, splitKey, type Key } from '../keys.ts';

const PREFIX = 'TMCMSG';

export const tmcMessageKey = (messageId: string): Key => ({ pk: `${PREFIX}#${messageId}`, sk: ROOT });

export function parseTmcMessageKey(k: { pk: string }): { messageId: string } {
  return { messageId: splitKey(k.pk, PREFIX, 1)[0]! };
}
