/**
 * The served /metrics body, built off to the side and published by replacing one reference.
 *
 * The big part (every account's snapshot plus health families) is rebuilt only when the store
 * changed, at most every `minRebuildMs`; its gzip form is made on libuv's thread pool so the
 * event loop keeps answering scrapes meanwhile, from the previous complete body. Process
 * metrics (which change all the time) are a small second part, refreshed at most once a second;
 * a gzip stream may hold several members, so the two gzip parts are sent back to back.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb, gzipSync, constants as zc } from 'node:zlib';
import type { Registry } from 'prom-client';
import type { Store } from '../state/store.js';
import { LB_FAMILIES, LB_FAMILY_ORDER } from './families.js';
import { familyHeader } from './text.js';

const gzip = promisify(gzipCb);
const GZIP_OPTS = { level: 1, memLevel: 9, strategy: zc.Z_DEFAULT_STRATEGY };

export interface BodyParts {
  readonly plain: readonly Buffer[];
  readonly gzip: readonly Buffer[];
}

interface Built {
  readonly version: number;
  readonly plain: Buffer;
  readonly gzip: Buffer;
  readonly series: number;
}

export class Exposition {
  private built: Built | undefined;
  private building: Promise<void> | undefined;
  private lastBuildAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private processPart: { at: number; plain: Buffer; gzip: Buffer } | undefined;
  private processRefresh: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    /** Health and exporter families rendered from the store (small). */
    private readonly renderHealth: () => string,
    private readonly processRegistry: Registry,
    private readonly minRebuildMs = 200,
  ) {}

  /** Both parts of the body; waits only when nothing was ever built. */
  async parts(): Promise<BodyParts> {
    const built = this.built ?? (await this.flush());
    if (built.version !== this.store.version) this.invalidate();
    await this.refreshProcess();
    const p = this.processPart!;
    return { plain: [built.plain, p.plain], gzip: [built.gzip, p.gzip] };
  }

  /** The store changed: rebuild soon, at most once per minRebuildMs. */
  invalidate(): void {
    if (this.timer || this.building) return;
    this.schedule(Math.max(0, this.lastBuildAt + this.minRebuildMs - Date.now()));
  }

  /** Waits until the served body reflects the store as it is now (tests, --once, first scrape). */
  async flush(): Promise<Built> {
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
      const version = this.store.version;
      const { body, series } = this.render();
      const gz = await gzip(body, GZIP_OPTS);
      this.built = { version, plain: body, gzip: gz, series };
      this.lastBuildAt = Date.now();
    } finally {
      this.building = undefined;
      if (this.built && this.built.version !== this.store.version) this.invalidate();
    }
  }

  /** Family by family: one header, then every account-zone's lines for that family. */
  private render(): { body: Buffer; series: number } {
    const zones = [...this.store.all()].filter((z) => z.snapshot !== null);
    const parts: Buffer[] = [];
    let series = 0;
    LB_FAMILY_ORDER.forEach((key, i) => {
      parts.push(Buffer.from(familyHeader(LB_FAMILIES[key])));
      for (const z of zones) {
        const { text, offsets } = z.snapshot!;
        if (offsets[i + 1]! > offsets[i]!) parts.push(text.subarray(offsets[i], offsets[i + 1]));
      }
    });
    for (const z of zones) series += z.snapshot!.series;
    const health = this.renderHealth();
    parts.push(Buffer.from(health));
    return { body: Buffer.concat(parts), series };
  }

  private refreshProcess(): Promise<void> {
    if (this.processPart && Date.now() - this.processPart.at < 1000) return Promise.resolve();
    this.processRefresh ??= this.processRegistry
      .metrics()
      .then((text) => {
        const plain = Buffer.from(text);
        this.processPart = { at: Date.now(), plain, gzip: gzipSync(plain, GZIP_OPTS) };
      })
      .finally(() => {
        this.processRefresh = undefined;
      });
    return this.processRefresh;
  }
}
