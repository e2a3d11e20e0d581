/**
 * The served /metrics body, built off to the side and published by replacing one reference.
 *
 * The big part (every account's snapshot plus health families, see body.ts) is rebuilt only when
 * the store changed, and not more often than every `minRebuildMs` (longer when rebuilds cost the
 * event loop more: it spends at most about 1/REBUILD_DUTY of its time on them). A rebuild costs
 * in proportion to what changed, not to the size of the body: unchanged groups of account-zones
 * keep their compressed segments (body.ts). Compression is synchronous (a zlib call on the thread pool
 * costs more than compressing a snapshot) and cut into slices, so that scrapes are answered
 * between them, from the previous complete body.
 *
 * Text 0.0.4 is built at every rebuild; OpenMetrics from the first time someone asks for it (then
 * at every rebuild too, since whoever asked once, typically Prometheus, asks again).
 *
 * Process metrics (which change all the time) are a small second part, refreshed at most once a
 * second, appended to either form (process-metrics.ts).
 */
import type { Registry } from 'prom-client';
import type { Snapshot } from '../protocol.js';
import type { Store } from '../state/store.js';
import { Body, buildLb, NO_LB, Slicer, type Lb } from './body.js';
import type { Format } from './openmetrics.js';
import { ProcessMetrics } from './process-metrics.js';

/** A rebuild that held the event loop for t ms is followed by at least REBUILD_DUTY × t ms without one. */
const REBUILD_DUTY = 20;

/** One scrape's body, as buffers to write back to back. */
export interface BodyParts {
  readonly plain: readonly Uint8Array[];
  /** One gzip member. */
  readonly gzip: readonly Uint8Array[];
}

export class Exposition {
  private built: Body | undefined;
  private building: Promise<void> | undefined;
  private lastBuildAt = 0;
  /** Main-thread time the last rebuild took, ms. */
  private lastBuildCost = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The LB part of the last build (compressed groups, in order). */
  private lb: Lb = NO_LB;
  /** Formats built at every rebuild. */
  private readonly formats = new Set<Format>(['text']);
  /** Also appended to the per-account bodies (account-body.ts). */
  readonly process: ProcessMetrics;

  constructor(
    private readonly store: Store,
    /** Health and exporter families rendered from the store (small), in text 0.0.4. */
    private readonly renderHealth: () => string,
    processRegistry: Registry,
    private readonly minRebuildMs = 200,
  ) {
    this.process = new ProcessMetrics(processRegistry);
  }

  /** The body in `format`; waits only when nothing was ever built (or this format never asked for). */
  async parts(format: Format = 'text'): Promise<BodyParts> {
    const built = this.built ?? (await this.flush());
    if (built.version !== this.store.version) this.invalidate();
    this.formats.add(format);
    const [form, p] = await Promise.all([built.form(format), this.process.part(format)]);
    // Each list is made when first wanted: the plain one for plain scrapes (not Prometheus), the
    // gzip one (references to the cached compressed buffers) for gzip scrapes.
    return {
      get plain() {
        return [...form.plainParts, p.plain];
      },
      get gzip() {
        return form.gzip(p);
      },
    };
  }

  /** The whole plain body as it is now, in one buffer (--once). */
  async text(format: Format = 'text'): Promise<Buffer> {
    await this.flush();
    return Buffer.concat((await this.parts(format)).plain);
  }

  /** The store changed: rebuild soon, at most once per minRebuildMs (longer after a costly rebuild). */
  invalidate(): void {
    if (this.timer || this.building) return;
    const gap = Math.max(this.minRebuildMs, REBUILD_DUTY * this.lastBuildCost);
    this.schedule(Math.max(0, this.lastBuildAt + gap - Date.now()));
  }

  /** Waits until the served body reflects the store as it is now (tests, --once, first scrape). */
  async flush(): Promise<Body> {
    for (;;) {
      if (this.building) {
        await this.building;
        continue;
      }
      if (this.built && this.built.version === this.store.version) return this.built;
      this.schedule(0);
    }
  }

  get seriesCount(): number {
    return this.built?.series ?? 0;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.building) return;
    clearTimeout(this.timer);
    if (delayMs <= 0) {
      this.timer = undefined;
      this.building = this.build();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.building = this.build();
    }, delayMs);
  }

  private async build(): Promise<void> {
    try {
      const slicer = new Slicer();
      // Everything is read from the store in this synchronous step: one consistent version.
      // Snapshots are immutable: a collection replaces the object.
      const version = this.store.version;
      const snapshots: Snapshot[] = [];
      for (const z of this.store.all()) if (z.snapshot !== null) snapshots.push(z.snapshot);
      const health = this.renderHealth();

      this.lb = await buildLb(snapshots, this.lb, slicer);
      let series = 0;
      for (const s of snapshots) series += s.series;
      const body = new Body(version, this.lb, health, series);
      for (const format of this.formats) await body.form(format, slicer);
      this.built = body;
      this.lastBuildCost = slicer.finish();
      this.lastBuildAt = Date.now();
    } finally {
      this.building = undefined;
      if (this.built && this.built.version !== this.store.version) this.invalidate();
    }
  }
}
