/**
 * prom-client's process_* and nodejs_* metrics: they change all the time, so they are a small part
 * of their own, rendered at most once a second and appended after the cached body, in each format.
 */
import type { Registry } from 'prom-client';
import { FAST_DEFLATE, type ProcessPart } from './body.js';
import { deflateSegment } from './gzip-frame.js';
import { OPENMETRICS_EOF, toOpenMetrics, type Format } from './openmetrics.js';

const REFRESH_MS = 1000;

export class ProcessMetrics {
  private rendered: { at: number; text: string; parts: Map<Format, ProcessPart> } | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly registry: Registry) {}

  /** The part in `format`, at most REFRESH_MS old. In OpenMetrics it ends the body with `# EOF`. */
  async part(format: Format): Promise<ProcessPart> {
    if (!this.rendered || Date.now() - this.rendered.at >= REFRESH_MS) await this.refresh();
    const r = this.rendered!;
    let p = r.parts.get(format);
    if (!p) {
      const plain = Buffer.from(format === 'text' ? r.text : toOpenMetrics(r.text) + OPENMETRICS_EOF);
      p = { plain, segment: deflateSegment(plain, FAST_DEFLATE) };
      r.parts.set(format, p);
    }
    return p;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.registry
      .metrics()
      .then((text) => {
        this.rendered = { at: Date.now(), text, parts: new Map() };
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}
