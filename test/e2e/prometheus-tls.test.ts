import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeCert } from '../support/certs.js';
import { eventually, startStack, type Running } from '../support/harness.js';
import { requireTool } from '../support/tools.js';
import { Prometheus } from './prometheus.js';

/**
 * A real Prometheus scraping the exporter over HTTPS with basic auth, configured the way a
 * user would (scheme https, tls_config.ca_file, basic_auth), and a second job with a wrong
 * password that must be refused.
 */
const binary = requireTool('prometheus', 'a real Prometheus scraping over TLS with basic auth');
// bcrypt of "scrape-pw", cost 10.
const HASH = '$2b$10$cPoATUfk921QSbl9h6./AuaIRuz9tFHJzxQvtj59TqPh12qki5icS';

(binary ? describe : describe.skip)('a real Prometheus scrapes over TLS with basic auth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-e2e-tls-'));
  let s: Running;
  let prom: Prometheus;

  beforeAll(async () => {
    const ca = makeCa(dir);
    const server = makeCert(dir, 'server', ca, 'server');
    writeFileSync(join(dir, 'web.yml'), `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server.key}\nbasic_auth_users:\n  prometheus: "${HASH}"\n`);
    s = await startStack({
      sim: { accounts: [{ id: 'tls@example.com', password: 'tls-pw', zones: { 'DX-M1': { lbs: 2, serversPerLb: 2 } } }] },
      accounts: [{ name: 'tls', zones: ['DX-M1'], id: 'tls@example.com', password: 'tls-pw' }],
      yaml: 'interval: 2s\ntimeout: 1500ms\nspread: false',
      app: { webConfigFile: join(dir, 'web.yml') },
    });
    expect(s.url).toMatch(/^https:\/\//);
    const target = s.url.replace('https://', '');
    const job = (name: string, password: string) => ({
      job_name: name,
      scheme: 'https',
      tls_config: { ca_file: ca.cert },
      basic_auth: { username: 'prometheus', password },
      static_configs: [{ targets: [target] }],
    });
    prom = await Prometheus.start({
      binary: binary!,
      config: () => ({ global: { scrape_interval: '1s', scrape_timeout: '900ms' }, scrape_configs: [job('tls', 'scrape-pw'), job('wrong-password', 'not-it')] }),
    });
  }, 60_000);
  afterAll(async () => {
    await prom?.close();
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the right credentials scrape the exporter\'s metrics; a wrong password is refused with 401', async () => {
    await eventually(async () => ((await prom.query('ktcloud_account_up{job="tls",account="tls"} == 1')).length === 1 ? true : undefined), 30_000, 'account up through the TLS scrape');
    expect(await prom.value('up{job="tls"}')).toBe(1);
    expect((await prom.query('ktcloud_exporter_build_info{job="tls"}')).length).toBe(1);
    const wrong = await eventually(async () => (await prom.targets()).find((t) => t.scrapePool === 'wrong-password' && t.health === 'down'), 20_000, 'the wrong-password target down');
    expect(wrong.lastError).toContain('401');
    expect(await prom.value('up{job="wrong-password"}')).toBe(0);
  }, 60_000);
});
