/**
 * What a webhook source declares as data (docs/architecture.md#add-a-source): its routes, the
 * route parameter naming the account, its body limit, the secrets and stage settings it reads,
 * its built-in attribution channel and its Lambda sizing. lib/manifest.ts lists the sources
 * (SOURCES); the function specs, the platform enum, the built-in channels, the stage `app`
 * keys and the cdk-nag public-route reasons are derived from that list.
 * Data types only: no behaviour (that is lib/sources/types.ts).
 */
import type { SecretGroup, SecretKey } from '../config/schema.ts';

/** The admin scopes; the identity provider grants them per role (docs/deploy.md#admin-sign-in). */
export const ADMIN_SCOPES = [
  'members:read',
  'members:export',
  'members:erase',
  'channels:read',
  'channels:write',
  'codes:write',
  'codes:export',
  'attribution:read',
  'rewards:read',
  'rewards:write',
  'coupons:redeem',
  'insight:read',
  'keywords:write',
  'audiences:write',
  'campaigns:write',
] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway v2 route path, `{param}` style. */
  path: string;
  /** Admin routes need the bearer token locally and the JWT authorizer in AWS. */
  admin?: boolean;
  /**
   * OAuth scope an admin route requires (every admin route has one): the JWT authorizer checks it
   * in AWS (authorizationScopes), requireAdmin checks the JWT claims' `scope` as well.
   */
  scope?: AdminScope;
  /** Called from shoppers' browsers (H5, member centre): CORS for the stage's `corsOrigins`. */
  member?: boolean;
  /** A platform's signed webhook: its 4xx rate is alarmed (a mistyped secret shows up as 401s nobody sees). */
  webhook?: boolean;
}

/** A channel that collects attribution credits without marketing creating it. */
export interface BuiltinChannel {
  readonly channel: string;
  readonly name: string;
  readonly kind: string;
}

export interface SourceDescriptor {
  /** Function name, route prefix and secret group name. */
  readonly id: string;
  /** The commerce platform it brings orders from (`order.platform`, a built-in channel), or null. */
  readonly platform: string | null;
  readonly description: string;
  readonly routes: readonly RouteSpec[];
  /** The route parameter naming the account: `appId`, `appKey`, `clientId`. */
  readonly accountParam: string;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes: number;
  /** Its attribution channel (people first met through an order on the platform). */
  readonly builtinChannel?: BuiltinChannel & { readonly kind: 'platform' };
  /** Its own secret names: the secret group named `id` (lib/config/schema.ts SECRET_GROUPS). */
  readonly secretKeys: readonly SecretKey[];
  /** The secret groups its function reads (its own and shared ones, e.g. `keys` for phone hashing). */
  readonly secretGroups: readonly SecretGroup[];
  /** Non-secret settings every stage must set in cdk.json `stages.<stage>.app` (its account id). */
  readonly stageKeys: readonly string[];
  /** Why its routes may be called without the admin JWT (cdk-nag AwsSolutions-APIG4). */
  readonly publicReason: string;
  readonly lambda: { readonly memoryMb: number; readonly timeoutSeconds: number };
  /**
   * The platform's answer budget: `budgetMs` from arrival after which no new apply attempt starts
   * (503 while the platform still listens), and whether a queue failure after the commit is
   * answered as success (the outbox sweep delivers) instead of 503.
   */
  readonly reply?: { readonly budgetMs: number; readonly successAfterCommit: boolean };
}
