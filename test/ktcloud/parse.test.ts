import { describe, expect, it } from 'vitest';
import { KtCloudError } from '../../src/ktcloud/errors.js';
import { parseLoadBalancers, parseWebServers, toNumber } from '../../src/ktcloud/parse.js';
import { retryAfterMs } from '../../src/ktcloud/client.js';

// Recorded-style payloads, in the shapes ktcloud-api.md lists.
const LB = {
  listloadbalancersresponse: {
    count: 1,
    loadbalancer: [
      { loadbalancerid: 45486, name: 'yeonglb1', serviceip: '172.25.0.181', serviceport: '80', servicetype: 'HTTP', loadbalanceroption: 'SOURCEIPHASH', healthchecktype: 'tcp', healthcheckurl: '', establishedconn: 0, state: 'DOWN' },
    ],
  },
};

describe('tolerant parsing', () => {
  it('reads a load balancer, numbers and strings alike', () => {
    expect(parseLoadBalancers(LB, 'DX-M1')).toEqual([
      { id: '45486', name: 'yeonglb1', serviceIp: '172.25.0.181', servicePort: '80', serviceType: 'HTTP', option: 'SOURCEIPHASH', healthcheckType: 'tcp', state: 'DOWN' },
    ]);
  });

  it('an absent list is empty, a lone object is a list of one', () => {
    expect(parseLoadBalancers({ listloadbalancersresponse: {} }, 'DX-M1')).toEqual([]);
    const single = { listloadbalancerwebserversresponse: { loadbalancerwebserver: { ipaddress: '1.2.3.4', publicport: 80, state: 'UP', cursrvrconnections: '5', avgsrvttfb: '9' } } };
    expect(parseWebServers(single, 'DX-M1')).toEqual([{ ip: '1.2.3.4', port: '80', state: 'UP', connections: 5, throughputKbps: 0, ttfbMs: 9, requestsPerSec: 0 }]);
  });

  it('keeps an unknown state as text', () => {
    const weird = { listloadbalancersresponse: { loadbalancer: [{ ...LB.listloadbalancersresponse.loadbalancer[0], state: 'MAINTENANCE' }] } };
    expect(parseLoadBalancers(weird, 'DX-M1')[0]!.state).toBe('MAINTENANCE');
  });

  it('errors inside HTTP 200: errorcode/errortext and success:false', () => {
    const e = () => parseLoadBalancers({ listloadbalancersresponse: { errorcode: '431', errortext: 'bad param' } }, 'DX-G');
    expect(e).toThrow(KtCloudError);
    expect(e).toThrow('listLoadBalancers returned API error 431: bad param in DX-G');
    expect(() => parseLoadBalancers({ listloadbalancersresponse: { success: false, displaytext: 'nope' } }, 'DX-G')).toThrow('API error (no code): nope');
  });

  it('a missing response object or a non-list is a bad_response', () => {
    try {
      parseLoadBalancers({ somethingelse: {} }, 'DX-M1');
      throw new Error('accepted');
    } catch (err) {
      expect((err as KtCloudError).reason).toBe('bad_response');
      expect((err as Error).message).toBe('listLoadBalancers answered without "listloadbalancersresponse" (got somethingelse) in DX-M1');
    }
    expect(() => parseLoadBalancers({ listloadbalancersresponse: { loadbalancer: 'x' } }, 'DX-M1')).toThrow('not a list');
  });

  it('numbers: numbers, numeric strings, and anything else as 0', () => {
    expect([toNumber(3), toNumber('4.5'), toNumber(''), toNumber('abc'), toNumber(null), toNumber(NaN)]).toEqual([3, 4.5, 0, 0, 0, 0]);
  });

  it('Retry-After: seconds, HTTP dates, and a cap', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs('100000')).toBe(60_000);
    const d = retryAfterMs(new Date(Date.now() + 5000).toUTCString())!;
    expect(d).toBeGreaterThan(3000);
    expect(d).toBeLessThanOrEqual(5000);
  });
});
