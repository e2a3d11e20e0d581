import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const COPY = new URL('./fixtures/original-dashboard-account-all.json', import.meta.url);
const SHARED = new URL('../../shared/reference/original-dashboard-account-all.json', import.meta.url);

describe('the original dashboard the e2e suite queries', () => {
  it('is the reference users run today (when the reference sits beside the repository)', (ctx) => {
    if (!existsSync(SHARED)) return ctx.skip('../shared/reference is not beside this clone');
    expect(readFileSync(COPY, 'utf8')).toBe(readFileSync(SHARED, 'utf8'));
  });
});
