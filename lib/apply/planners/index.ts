/**
 * The planner of every event type: what an event writes, as items of its one transaction. A new
 * HubEvent type without a planner here does not compile. The webhook functions use only their
 * family's map (WECHAT_PLANNERS, WECOM_PLANNERS, COMMERCE_PLANNERS, CODE_SCAN_PLANNERS; the members
 * function REGISTER_PLANNERS and CONSENT_PLANNERS) so that a function's bundle carries no other
 * family's planning code.
 */
import type { Planners } from '../../port.ts';
import { WECHAT_PLANNERS } from './wechat.ts';
import { REGISTER_PLANNERS } from './register.ts';
import { CONSENT_PLANNERS } from './consent.ts';
import { COMMERCE_PLANNERS } from './orders.ts';
import { CODE_SCAN_PLANNERS } from './code-scan.ts';
import { WECOM_PLANNERS } from './wecom.ts';

// Pure: a function that imports this module but never applies an event (admin: privacy
// requests) drops the whole map, and with it every planner, from its bundle. An object spread
// would not be dropped (esbuild keeps it: a spread may run getters).
export const PLANNERS: Planners = /* @__PURE__ */ Object.assign(
  {},
  WECHAT_PLANNERS,
  WECOM_PLANNERS,
  REGISTER_PLANNERS,
  CONSENT_PLANNERS,
  COMMERCE_PLANNERS,
  CODE_SCAN_PLANNERS,
);

