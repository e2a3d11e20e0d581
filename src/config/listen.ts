/** `HOST:PORT`, `:PORT` or `[v6]:PORT`; returns an error text when malformed. */
export function parseListen(text: string): { host: string; port: number } | string {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return `listen: "${text}" is not HOST:PORT (e.g. 0.0.0.0:9105)`;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
