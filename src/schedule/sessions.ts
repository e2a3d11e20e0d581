/**
 * What the runtime keeps between collections, in one place: each account's tokens and pacer, each
 * zone's pacer, and the credential generation that ties a token to the identity it was issued for.
 * The scheduler asks here for a task and hands the result back; nothing else touches tokens.
 */
import type { AccountConfig, ExporterConfig } from '../config/types.js';
import type { TokenInfo } from '../ktcloud/client.js';
import { SharedPacer } from '../ktcloud/pacer.js';
import type { CollectResult, CollectTask } from '../protocol.js';

interface PacerState {
  readonly rate: number;
  readonly buffer: SharedArrayBuffer;
}

interface AccountSession {
  /** The credentials the tokens belong to. */
  id: AccountConfig['id'];
  password: AccountConfig['password'];
  /** Changes whenever the credentials do; a result of an older generation may not store tokens. */
  generation: number;
  readonly tokens: Map<string, TokenInfo>;
  pacer?: PacerState;
}

/** Unique across accounts and re-additions, so a result from a removed account's session never matches a new one. */
let generations = 0;

export class Sessions {
  private readonly accounts = new Map<string, AccountSession>();
  private readonly zonePacers = new Map<string, PacerState>();

  /** @param logLevel the workers' log level, passed along in every task. */
  constructor(private readonly logLevel: string) {}

  /**
   * Tells the sessions the account's current config. Returns true when its credentials changed:
   * its tokens are dropped and its generation moves on, so a collection still running with the
   * old identity cannot store its token afterwards.
   */
  update(acc: AccountConfig): boolean {
    const s = this.accounts.get(acc.name);
    if (!s) {
      this.accounts.set(acc.name, { id: acc.id, password: acc.password, generation: ++generations, tokens: new Map() });
      return false;
    }
    if (s.id.equals(acc.id) && s.password.equals(acc.password)) return false;
    s.id = acc.id;
    s.password = acc.password;
    s.generation = ++generations;
    s.tokens.clear();
    return true;
  }

  remove(account: string): void {
    this.accounts.delete(account);
  }

  /**
   * A collection task for the account, and the generation its result must be handed back with.
   * `zones`: the zones to run over when they are not the configured ones (`zones: auto`).
   */
  taskFor(acc: AccountConfig, c: ExporterConfig, zones: readonly string[] = acc.zones): { task: CollectTask; generation: number } {
    this.update(acc);
    const s = this.accounts.get(acc.name)!;
    s.pacer = fresh(s.pacer, acc.limits.requestsPerSecond);
    const task: CollectTask = {
      account: acc.name,
      zones: zones.map((zone) => {
        const rate = c.zones[zone]!.requestsPerSecond;
        const pacer = fresh(this.zonePacers.get(zone), rate);
        this.zonePacers.set(zone, pacer);
        return { zone, endpoint: c.zones[zone]!.endpoint, pacer: pacer.buffer, requestsPerSecond: rate, token: s.tokens.get(zone) };
      }),
      cloudId: acc.id.reveal(),
      password: acc.password.reveal(),
      concurrency: acc.limits.concurrency,
      requestsPerSecond: acc.limits.requestsPerSecond,
      accountPacer: s.pacer.buffer,
      timeoutMs: c.timeoutMs,
      api: c.api,
      logLevel: this.logLevel,
      lbFilter: acc.loadBalancers ?? c.loadBalancers,
      disabledFamilies: c.metrics.disable,
      maxSeries: acc.limits.maxSeries,
    };
    return { task, generation: s.generation };
  }

  /** Keeps the tokens a collection ended with, only if they belong to the account's current credentials. */
  keepTokens(result: CollectResult, generation: number): boolean {
    const s = this.accounts.get(result.account);
    if (!s || s.generation !== generation) return false;
    for (const z of result.zones) {
      if (z.token) s.tokens.set(z.zone, z.token);
      else s.tokens.delete(z.zone);
    }
    return true;
  }
}

/**
 * The same pacer while the rate is unchanged; a new one when a reload changed it: the old buffer
 * holds slots booked at the old spacing and a window sized for the old rate. A collection still
 * running keeps the old buffer until it ends.
 */
function fresh(p: PacerState | undefined, rate: number): PacerState {
  return p && p.rate === rate ? p : { rate, buffer: SharedPacer.createBuffer() };
}
