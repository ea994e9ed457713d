/** The tmall webhook's Lambda entry: the generic webhook handler over this source (lib/runtime/webhook.ts). */
import { webhook } from '../../runtime/webhook.ts';
import { COMMERCE_PLANNERS } from '../../apply/planners/orders.ts';
import { source } from './source.ts';

export const handler = webhook(source, COMMERCE_PLANNERS);
