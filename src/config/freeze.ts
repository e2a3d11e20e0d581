import { Secret } from './secret.js';
import type { ExporterConfig } from './types.js';

/** A config is never changed after it is built: a reload builds a new one and swaps it in. */
export function freezeConfig(c: ExporterConfig): ExporterConfig {
  const deep = (o: unknown): void => {
    if (o && typeof o === 'object' && !Object.isFrozen(o) && !(o instanceof Secret)) {
      Object.freeze(o);
      for (const v of Object.values(o)) deep(v);
    }
  };
  deep(c);
  return c;
}
