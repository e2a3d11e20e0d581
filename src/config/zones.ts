import type { ZoneConfig } from './types.js';
/**
 * The DX zones KT Cloud documents, as data. Config `zones:` entries override or add to these,
 * so a new zone (or a KT-Cloud-compatible server, such as the bundled simulator in
 * packages/simulator) needs no code change.
 */
export const KTCLOUD_API_HOST = 'https://api.ucloudbiz.olleh.com';

export const BUILTIN_ZONES: Readonly<Record<string, string>> = Object.freeze({
  'DX-M1': `${KTCLOUD_API_HOST}/d1`,
  'DX-Central': `${KTCLOUD_API_HOST}/d2`,
  'DX-DCN-CJ': `${KTCLOUD_API_HOST}/d3`,
  'DX-G': `${KTCLOUD_API_HOST}/gd1`,
  'DX-G-YS': `${KTCLOUD_API_HOST}/gd4`,
});

/** The built-in zones, each at `rps` requests per second. */
export function builtinZones(rps: number): Record<string, ZoneConfig> {
  return Object.fromEntries(Object.entries(BUILTIN_ZONES).map(([name, endpoint]) => [name, { name, endpoint, requestsPerSecond: rps }]));
}

/** Why `url` cannot be a zone endpoint, or undefined. Never echoes the value (it may carry userinfo). */
export function checkEndpoint(url: string): string | undefined {
  return /^https?:\/\/[^/\s]/.test(url.trim()) ? undefined : 'not an http(s) URL';
}
