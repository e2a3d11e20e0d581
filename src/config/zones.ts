/**
 * The DX zones KT Cloud documents, as data. Config `zones:` entries override or add to these,
 * so a new zone (or a KT-Cloud-compatible server, such as the bundled simulator) needs no code change.
 */
export const KTCLOUD_API_HOST = 'https://api.ucloudbiz.olleh.com';

export const BUILTIN_ZONES: Readonly<Record<string, string>> = Object.freeze({
  'DX-M1': `${KTCLOUD_API_HOST}/d1`,
  'DX-Central': `${KTCLOUD_API_HOST}/d2`,
  'DX-DCN-CJ': `${KTCLOUD_API_HOST}/d3`,
  'DX-G': `${KTCLOUD_API_HOST}/gd1`,
  'DX-G-YS': `${KTCLOUD_API_HOST}/gd4`,
});
