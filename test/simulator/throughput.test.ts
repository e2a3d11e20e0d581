import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '@ktcloud-lb-exporter/simulator';

describe('throughput sanity', () => {
  it('completes 2000 keep-alive requests over a few connections on benchmark-sized data', async () => {
    const sim = await startSimulator({ generate: { accounts: 50, lbsPerAccount: 20, serversPerLb: 5 } });
    const pool = new Pool(sim.url, { connections: 4 });
    let connects = 0;
    pool.on('connect', () => connects++);
    try {
      const account = sim.data.accounts[0]!;
      const zone = Object.values(account.zones).find((z) => z.configured)!;
      const prefix = sim.data.zones[zone.zone]!.prefix;
      const auth = await pool.request({
        path: `${prefix}/identity/auth/tokens`,
        method: 'POST',
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { domain: { id: 'default' }, name: account.id, password: account.password } } } } }),
      });
      await auth.body.dump();
      expect(auth.statusCode).toBe(201);
      const token = auth.headers['x-subject-token'] as string;
      const ids = zone.loadBalancers.map((lb) => lb.loadbalancerid);
      sim.resetStats();

      const total = 2000;
      let next = 0;
      const statuses = new Map<number, number>();
      const worker = async () => {
        while (next < total) {
          const i = next++;
          const query = i % 10 === 0 ? 'command=listLoadBalancers' : `command=listLoadBalancerWebServers&loadbalancerid=${ids[i % ids.length]}`;
          const res = await pool.request({ path: `${prefix}/loadbalancer/client/api?${query}&response=json`, method: 'GET', headers: { 'x-auth-token': token } });
          const body = (await res.body.json()) as Record<string, unknown>;
          expect(Object.keys(body)).toHaveLength(1);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      expect(Object.fromEntries(statuses)).toEqual({ 200: total });
      expect(sim.stats.totals()).toMatchObject({ total, pending: 0, byStatus: { 200: total } });
      expect(sim.stats.count({ account: account.id, command: 'listLoadBalancers' })).toBe(total / 10);
      expect(connects).toBeLessThanOrEqual(4);
    } finally {
      await pool.close();
      await sim.close();
    }
  });
});
