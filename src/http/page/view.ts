/**
 * What the /accounts page reads from the view, declared here so that the browser code compiles
 * without the server's modules (no Node types in the browser build). The server passes its
 * AccountsView (../accounts-view.ts) where these are expected, so the compiler checks that the
 * view still has every field the page reads.
 */

export type PageState = 'ok' | 'failing' | 'stale' | 'pending';

export interface PageError {
  readonly reason: string;
  readonly code: number | null;
  readonly message: string;
  readonly zone: string;
  /** ISO-8601. */
  readonly at: string;
}

export interface PageZone {
  readonly zone: string;
  readonly state: PageState;
  readonly lastSuccess: string | null;
  readonly lastAttempt: string | null;
  readonly lastDurationSeconds: number | null;
  readonly lbs: number | null;
  readonly lbsDown: number | null;
  readonly servers: number | null;
  readonly serversDown: number | null;
  readonly consecutiveFailures: number;
  readonly partial: boolean;
  readonly lastError: PageError | null;
}

export interface PageAccount {
  readonly name: string;
  readonly zones: readonly PageZone[];
  readonly state: PageState;
  readonly lastSuccess: string | null;
  readonly lastAttempt: string | null;
  readonly lastDurationSeconds: number | null;
  readonly lbs: number;
  readonly lbsDown: number;
  readonly servers: number;
  readonly serversDown: number;
  readonly consecutiveFailures: number;
  readonly nextRun: string | null;
  readonly partial: boolean;
  readonly lastError: PageError | null;
  /**
   * When a backing-off account is tried next (ISO-8601) and after how many failed collections.
   * Newer servers add them; the page shows nothing when they are absent.
   */
  readonly nextAttempt?: string | null;
  readonly failures?: number;
  /** `auto`: zones are discovered (README "Zone discovery"); newer servers only, read defensively. */
  readonly zonesMode?: string;
  readonly discoveredAt?: string | null;
  readonly discoveredZones?: readonly string[];
  readonly authFailedZones?: readonly string[];
}

export interface PageView {
  readonly schemaVersion: 1;
  readonly generatedAt: string;
  readonly intervalSeconds: number;
  readonly shard: { readonly index: number; readonly total: number };
  readonly summary: { readonly accounts: number; readonly ok: number; readonly failing: number; readonly stale: number; readonly pending: number };
  readonly accounts: readonly PageAccount[];
}
