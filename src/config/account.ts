/** The one way an AccountConfig is made, whether from `accounts[]`, a folder or the environment. */
import type { Secret } from './secret.js';
import type { AccountConfig, AccountLimits, LbFilter } from './types.js';

/** The `account` label: what Prometheus and the /accounts page show. */
export const ACCOUNT_NAME = /^[A-Za-z0-9_.-]+$/;

/** The zone list that asks for discovery (`zones: auto`, `CLOUD_ZONE=auto`); no zone may be named so. */
export const AUTO_ZONES = 'auto';

/** True when a zone list is exactly `auto`. */
export function isAutoZones(names: readonly string[]): boolean {
  return names.length === 1 && names[0] === AUTO_ZONES;
}

export function makeAccount(a: {
  name: string;
  zones: readonly string[];
  /** `zones: auto`: `zones` must then be empty. */
  autoZones?: boolean;
  id: Secret;
  password: Secret;
  limits: AccountLimits;
  /** Files the credentials came from (resolved here), watched for rotation. */
  credentialFiles?: readonly string[];
  origin: string;
  /** The account's own LB filter, if it has one. */
  loadBalancers?: LbFilter;
}): AccountConfig {
  return {
    name: a.name,
    zones: [...a.zones],
    ...(a.autoZones ? { autoZones: true } : {}),
    id: a.id,
    password: a.password,
    credentialFiles: [...(a.credentialFiles ?? [])],
    // Only the per-account fields: `limits` may be the global Limits object with zone rates.
    limits: { concurrency: a.limits.concurrency, requestsPerSecond: a.limits.requestsPerSecond, maxSeries: a.limits.maxSeries },
    origin: a.origin,
    ...(a.loadBalancers ? { loadBalancers: a.loadBalancers } : {}),
  };
}
