/** The wechat webhook's Lambda entry: the generic webhook handler over this source (lib/runtime/webhook.ts). */
import { webhook } from '../../runtime/webhook.ts';
import { WECHAT_PLANNERS } from '../../apply/planners/wechat.ts';
import { source } from './source.ts';

export const handler = webhook(source, WECHAT_PLANNERS);
