/** The wecom webhook's Lambda entry: the generic webhook handler over this source (lib/runtime/webhook.ts). */
import { webhook } from '../../runtime/webhook.ts';
import { WECOM_PLANNERS } from '../../apply/planners/wecom.ts';
import { source } from './source.ts';

export const handler = webhook(source, WECOM_PLANNERS);
