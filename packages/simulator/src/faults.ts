/**
 * Fault catalogue (also documented in accounts/simulator.example.yaml):
 *
 *   wrongPassword: true              auth always 401, even with the right password
 *   expireTokenAfterRequests: N      the Nth API call made with one token gets 401 and kills it
 *   rateLimit: { status: 429|503, retryAfterSeconds: 1, every|first, commands }
 *                                    answered with that status and a Retry-After header
 *   serverError: { status: 500, every|first, commands }   5xx answers
 *   hang: true | { every|first, commands }   never answered; socket held open until client/close()
 *   slowMs: N                        extra latency for this account (auth and API)
 *   malformedJson: true | { ... }    HTTP 200 with a truncated JSON body
 *   errorInBody: { errorcode, errortext, every|first, commands }  HTTP 200, error inside <cmd>response
 *   emptyAsObject: true              no-op: empty lists are always `{"...response":{}}`
 *   numbersAsStrings: true           every numeric field (and count) is a JSON string
 *   weirdNames: true                 LB names with Korean, quotes, backslashes, newlines, commas
 *   failServerListFor: [ids] | { count: N }   listLoadBalancerWebServers answers 500 for those LBs
 *   hugeResponse: { extraLbs: N } | { padBytes: N }   much larger listLoadBalancers response
 *   echoSecrets: { status, every|first, commands }   error text repeating id, password and token
 *                                    (with malformedJson: a 200 whose body is the bare password)
 *   longErrorText: { status, bytes: 5120, every|first, commands }   a 5 KB multi-line error text
 *   hugeNames: { bytes: N }          every LB name is N bytes long
 *   duplicates: true                 LBs sent twice (same id); servers repeated and one without ip/port
 *   deepNesting: true | { depth: N } every LB name is an array nested N (100000) levels deep
 *
 * Counted faults (hang, rateLimit, serverError, malformedJson, errorInBody, hugeResponse,
 * echoSecrets, longErrorText) each
 * count the calls matching their `commands` independently, and all counters advance on every
 * call before any fault acts, so composing faults never shifts another fault's rhythm.
 * `commands` defaults to every API command but not `auth` (hugeResponse: listLoadBalancers);
 * list `auth` explicitly to fault the token call. When several apply to one call:
 *   invalid token > expireTokenAfterRequests > hang > rateLimit > serverError > echoSecrets >
 *   longErrorText >
 *   failServerListFor > errorInBody (replaces the body) > malformedJson (cuts whatever 200 body)
 *   > hugeResponse padding. slowMs delays every answer, faulted or not.
 */
import type { FaultTrigger, Faults } from './types.js';

export class FaultValidationError extends Error {}

const TRIGGER_KEYS = ['every', 'first', 'commands'];
const FAULT_KEYS: Record<keyof Faults, true> = {
  wrongPassword: true,
  expireTokenAfterRequests: true,
  rateLimit: true,
  serverError: true,
  hang: true,
  slowMs: true,
  malformedJson: true,
  errorInBody: true,
  emptyAsObject: true,
  numbersAsStrings: true,
  weirdNames: true,
  failServerListFor: true,
  hugeResponse: true,
  echoSecrets: true,
  longErrorText: true,
  hugeNames: true,
  duplicates: true,
  deepNesting: true,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(where: string, message: string): never {
  throw new FaultValidationError(`${where}: ${message}`);
}

function checkInt(where: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(where, `must be an integer >= ${min}`);
}

function checkKeys(where: string, obj: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`${where}.${k}`, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function checkTrigger(where: string, v: unknown, extra: string[], allowBoolean: boolean): void {
  if (allowBoolean && typeof v === 'boolean') return;
  if (!isObject(v)) fail(where, allowBoolean ? 'must be true/false or an object' : 'must be an object');
  checkKeys(where, v, [...TRIGGER_KEYS, ...extra]);
  if (v.every !== undefined) checkInt(`${where}.every`, v.every, 1);
  if (v.first !== undefined) checkInt(`${where}.first`, v.first, 0);
  if (v.every !== undefined && v.first !== undefined) fail(where, 'use either every or first, not both');
  if (v.commands !== undefined) {
    if (!Array.isArray(v.commands) || v.commands.some((c) => typeof c !== 'string')) {
      fail(`${where}.commands`, 'must be a list of command names');
    }
  }
}

/** Throws FaultValidationError naming the offending key; returns the value typed. */
export function validateFaults(raw: unknown, where = 'faults'): Faults {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) fail(where, 'must be an object');
  checkKeys(where, raw, Object.keys(FAULT_KEYS));
  for (const key of ['wrongPassword', 'emptyAsObject', 'numbersAsStrings', 'weirdNames', 'duplicates'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') fail(`${where}.${key}`, 'must be true or false');
  }
  if (raw.expireTokenAfterRequests !== undefined) checkInt(`${where}.expireTokenAfterRequests`, raw.expireTokenAfterRequests, 1);
  if (raw.slowMs !== undefined) checkInt(`${where}.slowMs`, raw.slowMs, 0);
  if (raw.rateLimit !== undefined) {
    checkTrigger(`${where}.rateLimit`, raw.rateLimit, ['status', 'retryAfterSeconds'], false);
    const r = raw.rateLimit as Record<string, unknown>;
    if (r.status !== undefined && r.status !== 429 && r.status !== 503) fail(`${where}.rateLimit.status`, 'must be 429 or 503');
    if (r.retryAfterSeconds !== undefined && r.retryAfterSeconds !== null) checkInt(`${where}.rateLimit.retryAfterSeconds`, r.retryAfterSeconds, 0);
  }
  if (raw.serverError !== undefined) {
    checkTrigger(`${where}.serverError`, raw.serverError, ['status'], false);
    const s = (raw.serverError as Record<string, unknown>).status;
    if (s !== undefined && (typeof s !== 'number' || s < 500 || s > 599)) fail(`${where}.serverError.status`, 'must be 500..599');
  }
  if (raw.hang !== undefined) checkTrigger(`${where}.hang`, raw.hang, [], true);
  if (raw.malformedJson !== undefined) checkTrigger(`${where}.malformedJson`, raw.malformedJson, [], true);
  if (raw.errorInBody !== undefined) {
    checkTrigger(`${where}.errorInBody`, raw.errorInBody, ['errorcode', 'errortext'], false);
    const e = raw.errorInBody as Record<string, unknown>;
    if (e.errorcode !== undefined) checkInt(`${where}.errorInBody.errorcode`, e.errorcode, 0);
    if (e.errortext !== undefined && typeof e.errortext !== 'string') fail(`${where}.errorInBody.errortext`, 'must be a string');
  }
  if (raw.failServerListFor !== undefined) {
    const f = raw.failServerListFor;
    if (Array.isArray(f)) {
      if (f.some((id) => typeof id !== 'number' || !Number.isInteger(id))) fail(`${where}.failServerListFor`, 'must be a list of LB ids');
    } else if (isObject(f)) {
      checkKeys(`${where}.failServerListFor`, f, ['count']);
      checkInt(`${where}.failServerListFor.count`, f.count, 0);
    } else {
      fail(`${where}.failServerListFor`, 'must be a list of LB ids or { count: N }');
    }
  }
  if (raw.hugeResponse !== undefined) {
    const h = raw.hugeResponse;
    if (!isObject(h)) fail(`${where}.hugeResponse`, 'must be an object');
    checkKeys(`${where}.hugeResponse`, h, ['extraLbs', 'padBytes', 'commands']);
    if (h.extraLbs !== undefined) checkInt(`${where}.hugeResponse.extraLbs`, h.extraLbs, 0);
    if (h.extraLbs !== undefined && (h.extraLbs as number) > 999_999) fail(`${where}.hugeResponse.extraLbs`, 'must be < 1,000,000');
    if (h.padBytes !== undefined) checkInt(`${where}.hugeResponse.padBytes`, h.padBytes, 0);
  }
  for (const key of ['echoSecrets', 'longErrorText'] as const) {
    if (raw[key] === undefined) continue;
    checkTrigger(`${where}.${key}`, raw[key], key === 'longErrorText' ? ['status', 'bytes'] : ['status'], false);
    const o = raw[key] as Record<string, unknown>;
    if (o.status !== undefined && (typeof o.status !== 'number' || (o.status !== 200 && (o.status < 400 || o.status > 599)))) fail(`${where}.${key}.status`, 'must be 200 or 400..599');
    if (o.bytes !== undefined) checkInt(`${where}.${key}.bytes`, o.bytes, 1);
  }
  if (raw.hugeNames !== undefined) {
    if (!isObject(raw.hugeNames)) fail(`${where}.hugeNames`, 'must be { bytes: N }');
    checkKeys(`${where}.hugeNames`, raw.hugeNames, ['bytes']);
    checkInt(`${where}.hugeNames.bytes`, raw.hugeNames.bytes, 1);
    if ((raw.hugeNames.bytes as number) > 64 * 1024 * 1024) fail(`${where}.hugeNames.bytes`, 'must be <= 64 MiB');
  }
  if (raw.deepNesting !== undefined && typeof raw.deepNesting !== 'boolean') {
    if (!isObject(raw.deepNesting)) fail(`${where}.deepNesting`, 'must be true/false or { depth: N }');
    checkKeys(`${where}.deepNesting`, raw.deepNesting, ['depth']);
    if (raw.deepNesting.depth !== undefined) checkInt(`${where}.deepNesting.depth`, raw.deepNesting.depth, 1);
  }
  return raw as Faults;
}

/** Zone faults override account faults key by key. */
export function mergeFaults(account: Faults, zone: Faults): Faults {
  return { ...account, ...zone };
}

/** Which counted faults fire on one call; computed once per call, before any fault acts. */
export interface Firing {
  hang: boolean;
  rateLimit: boolean;
  serverError: boolean;
  malformedJson: boolean;
  errorInBody: boolean;
  hugeResponse: boolean;
  echoSecrets: boolean;
  longErrorText: boolean;
}

type CountedKey = keyof Firing;

/** Counters of one account-zone; replaced (restarting counts) whenever its faults change. */
export class FaultRuntime {
  readonly counters: Record<CountedKey, number> = {
    hang: 0,
    rateLimit: 0,
    serverError: 0,
    malformedJson: 0,
    errorInBody: 0,
    hugeResponse: 0,
    echoSecrets: 0,
    longErrorText: 0,
  };
  /** True when no fault at all is set: the hot path skips every check. */
  readonly none: boolean;

  constructor(readonly faults: Faults) {
    this.none = Object.keys(faults).length === 0;
  }

  evaluate(command: string): Firing {
    const f = this.faults;
    return {
      hang: this.fires('hang', f.hang, command),
      rateLimit: this.fires('rateLimit', f.rateLimit, command),
      serverError: this.fires('serverError', f.serverError, command),
      malformedJson: this.fires('malformedJson', f.malformedJson, command),
      errorInBody: this.fires('errorInBody', f.errorInBody, command),
      hugeResponse: this.fires('hugeResponse', f.hugeResponse, command, 'listLoadBalancers'),
      echoSecrets: this.fires('echoSecrets', f.echoSecrets, command),
      longErrorText: this.fires('longErrorText', f.longErrorText, command),
    };
  }

  private fires(key: CountedKey, trigger: boolean | FaultTrigger | undefined, command: string, defaultCommand?: string): boolean {
    if (trigger === undefined || trigger === false) return false;
    const t: FaultTrigger = trigger === true ? {} : trigger;
    if (!commandMatches(t.commands, command, defaultCommand)) return false;
    const n = ++this.counters[key];
    if (t.first !== undefined) return n <= t.first;
    if (t.every !== undefined) return n % t.every === 0;
    return true;
  }
}

export const NO_FIRING: Firing = Object.freeze({
  hang: false,
  rateLimit: false,
  serverError: false,
  malformedJson: false,
  errorInBody: false,
  hugeResponse: false,
  echoSecrets: false,
  longErrorText: false,
});

function commandMatches(commands: readonly string[] | undefined, command: string, defaultCommand?: string): boolean {
  if (commands === undefined) return defaultCommand !== undefined ? command === defaultCommand : command !== 'auth';
  const lower = command.toLowerCase();
  return commands.some((c) => c.toLowerCase() === lower);
}
