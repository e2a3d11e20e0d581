/**
 * scripts/deploy.sh, scripts/setup-argocd.sh and scripts/add-account.sh: argument checking, the commands each action
 * runs (printed by --dry-run, and really run against stand-in kubectl/argocd programs), and
 * shellcheck on the scripts and on what they print.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith, ROOT, run, SHELLCHECK, type RunResult } from './tools.js';

const DEPLOY = 'scripts/deploy.sh';
const SETUP = 'scripts/setup-argocd.sh';
const ADD = 'scripts/add-account.sh';

/**
 * A PATH whose kubectl, argocd and helm only record their arguments (one call a line) in a log
 * file: the scripts can run for real, and a dry run can be shown to call nothing.
 */
let fakeBin: string;
let callLog: string;
beforeAll(() => {
  fakeBin = mkdtempSync(join(tmpdir(), 'ktcloud-fakebin-'));
  callLog = join(fakeBin, 'calls.log');
  for (const tool of ['kubectl', 'argocd', 'helm']) {
    const file = join(fakeBin, tool);
    // `-f -` reads the other end of a pipe first, so a pipeline logs in its written order;
    // what a command reads as /dev/stdin (a Secret's KEY=VALUE lines) is kept in calls.log.stdin.
    writeFileSync(
      file,
      // `get secrets` prints calls.log.secrets: the namespace's Secrets as add-account.sh lists them.
      `#!/usr/bin/env bash\n[[ -n \${FAKE_FAIL:-} ]] && exit 1\n[[ " $* " == *" -f - "* ]] && cat > /dev/null\n[[ " $* " == *"=/dev/stdin "* ]] && cat >> "${callLog}.stdin"\n[[ " $* " == *" get secrets "* && -f "${callLog}.secrets" ]] && cat "${callLog}.secrets"\necho "${tool} $*" >> "${callLog}"\n`,
    );
    chmodSync(file, 0o755);
  }
});
afterAll(() => rmSync(fakeBin, { recursive: true, force: true }));

function script(file: string, args: string[], env: Record<string, string> = {}, secrets = ''): RunResult & { calls: string[] } {
  writeFileSync(callLog, '');
  writeFileSync(`${callLog}.stdin`, '');
  writeFileSync(`${callLog}.secrets`, secrets);
  const r = run('bash', [file, ...args], {
    // From another directory: the scripts must find the repository themselves.
    cwd: tmpdir(),
    env: { PATH: `${fakeBin}:${process.env.PATH}`, HOME: process.env.HOME ?? '/tmp', ...env },
    input: '',
  });
  const calls = readFileSync(callLog, 'utf8').split('\n').filter(Boolean);
  return { ...r, calls };
}
const abs = (file: string) => join(ROOT, file);
/** The printed commands, without the comment header. */
const commands = (stdout: string) => stdout.split('\n').filter((l) => l && !l.startsWith('#'));

const NAMESPACES = { dev: 'monitoring-dev', staging: 'monitoring-staging', prod: 'monitoring' } as const;
type Env = keyof typeof NAMESPACES;

function expectedDeploy(env: Env, action: string): string[] {
  const ns = NAMESPACES[env];
  switch (action) {
    case 'deploy':
      return [
        `kubectl create namespace ${ns} --dry-run=client -o yaml | kubectl apply -f -`,
        `kubectl apply -k k8s-manifests/overlays/${env}`,
        `kubectl -n ${ns} rollout status statefulset/ktcloud-lb-exporter --timeout=300s`,
      ];
    case 'argocd':
      return [
        `kubectl apply -n argocd -f k8s-manifests/argocd-apps/${env}.yaml`,
        `argocd app sync ktcloud-lb-exporter-${env}`,
        `argocd app wait ktcloud-lb-exporter-${env} --health --timeout 300`,
      ];
    default:
      return [
        `kubectl -n ${ns} get statefulset,pods,service -l app.kubernetes.io/name=ktcloud-lb-exporter -o wide`,
        `kubectl -n ${ns} rollout status statefulset/ktcloud-lb-exporter --timeout=60s`,
        `kubectl get --raw /api/v1/namespaces/${ns}/services/ktcloud-lb-exporter:metrics/proxy/readyz`,
      ];
  }
}

const SETUP_EXPECTED: Record<string, string[]> = {
  install: [
    'kubectl create namespace argocd --dry-run=client -o yaml | kubectl apply -f -',
    'kubectl apply -n argocd --server-side --force-conflicts -f https://raw.githubusercontent.com/argoproj/argo-cd/v2.14.11/manifests/install.yaml',
    'kubectl -n argocd rollout status deployment/argocd-server --timeout=300s',
    'kubectl -n argocd rollout status statefulset/argocd-application-controller --timeout=300s',
  ],
  status: ['kubectl -n argocd get pods', 'kubectl -n argocd get applications.argoproj.io'],
  password: [`kubectl -n argocd get secret argocd-initial-admin-secret -o 'go-template={{.data.password | base64decode}}{{"\\n"}}'`],
  'port-forward': ['kubectl -n argocd port-forward svc/argocd-server 8080:443'],
};

const DEPLOY_CASES = (['dev', 'staging', 'prod'] as const).flatMap((env) => ['deploy', 'argocd', 'check'].map((action) => [env, action] as const));

describe(DEPLOY, () => {
  it.each(DEPLOY_CASES)('%s %s --dry-run prints its commands and runs none', (env, action) => {
    const r = script(abs(DEPLOY), [env, action, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual(expectedDeploy(env, action));
    expect(r.calls).toEqual([]);
  });

  it('takes DRY_RUN=1 from the environment, and --dry-run in any position', () => {
    const byEnv = script(abs(DEPLOY), ['staging', 'deploy'], { DRY_RUN: '1' });
    const byFlag = script(abs(DEPLOY), ['--dry-run', 'staging', 'deploy']);
    expect(byEnv.status).toBe(0);
    expect(byEnv.stdout).toBe(byFlag.stdout);
    expect(byEnv.calls).toEqual([]);
  });

  it.each([
    ['dev', 'deploy'],
    ['staging', 'argocd'],
    ['prod', 'check'],
  ] as const)('%s %s runs exactly the commands it prints', (env, action) => {
    const r = script(abs(DEPLOY), [env, action]);
    expect(r.status, r.stderr).toBe(0);
    // The namespace pipeline is two calls.
    const expected = expectedDeploy(env, action).flatMap((c) => c.split(' | '));
    expect(r.calls).toEqual(expected);
  });

  it('refuses to change prod without a terminal unless CONFIRM=yes', () => {
    for (const action of ['deploy', 'argocd']) {
      const refused = script(abs(DEPLOY), ['prod', action]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('CONFIRM=yes');
      expect(refused.calls).toEqual([]);
    }
    const confirmed = script(abs(DEPLOY), ['prod', 'deploy'], { CONFIRM: 'yes' });
    expect(confirmed.status, confirmed.stderr).toBe(0);
    expect(confirmed.calls).toContain('kubectl apply -k k8s-manifests/overlays/prod');
  });

  it.each([[[]], [['dev']], [['qa', 'deploy']], [['dev', 'destroy']], [['dev', 'deploy', 'extra']], [['dev', 'deploy', '--force']]])(
    'rejects %j with the usage and exit code 2',
    (args) => {
      const r = script(abs(DEPLOY), args, { DRY_RUN: '1' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('usage: scripts/deploy.sh <dev|staging|prod> <deploy|argocd|check> [--dry-run]');
      expect(r.stdout).toBe('');
      expect(r.calls).toEqual([]);
    },
  );

  it('deploys exactly the overlays and Applications that exist', () => {
    for (const [env, action] of DEPLOY_CASES) {
      for (const cmd of expectedDeploy(env, action)) {
        const path = / -(k|f) (k8s-manifests\/\S+)/.exec(cmd)?.[2];
        if (path) expect(() => readFileSync(abs(path.endsWith('.yaml') ? path : `${path}/kustomization.yaml`)), path).not.toThrow();
      }
    }
  });
});

describe(SETUP, () => {
  it.each(Object.keys(SETUP_EXPECTED))('%s --dry-run prints its commands and runs none', (action) => {
    const r = script(abs(SETUP), [action, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual(SETUP_EXPECTED[action]);
    expect(r.calls).toEqual([]);
  });

  it('honours ARGOCD_VERSION and ARGOCD_PORT, and validates them', () => {
    const r = script(abs(SETUP), ['install'], { DRY_RUN: '1', ARGOCD_VERSION: 'v2.13.4' });
    expect(r.stdout).toContain('/argo-cd/v2.13.4/manifests/install.yaml');
    expect(script(abs(SETUP), ['port-forward', '--dry-run'], { ARGOCD_PORT: '9443' }).stdout).toContain('svc/argocd-server 9443:443');
    expect(script(abs(SETUP), ['install', '--dry-run'], { ARGOCD_VERSION: 'latest' }).status).toBe(2);
    expect(script(abs(SETUP), ['port-forward', '--dry-run'], { ARGOCD_PORT: '80; rm -rf /' }).status).toBe(2);
  });

  it('status runs what it prints', () => {
    const r = script(abs(SETUP), ['status']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(SETUP_EXPECTED.status);
  });

  it.each([[[]], [['uninstall']], [['install', 'now']], [['status', '--verbose']]])('rejects %j with the usage and exit code 2', (args) => {
    const r = script(abs(SETUP), args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: scripts/setup-argocd.sh <install|status|password|port-forward> [--dry-run]');
    expect(r.calls).toEqual([]);
  });
});

describe(ADD, () => {
  const LIST = 'k8s-manifests/accounts/secrets.yaml';
  const LOOKUP = `kubectl -n %NS% get secrets -o go-template={{range .items}}{{.metadata.name}}{{"\\t"}}{{with .data}}{{with index . "ACCOUNT_NAME"}}{{base64decode .}}{{end}}{{end}}{{"\\n"}}{{end}}`;
  const lookup = (ns: string) => LOOKUP.replace('%NS%', ns);
  const pipeline = (ns: string, secret: string, account: string, store: 'create' | 'apply') => [
    `kubectl -n ${ns} create secret generic ${secret} --from-env-file=/dev/stdin --dry-run=client -o yaml`,
    `kubectl label --local -f - app.kubernetes.io/name=ktcloud-lb-exporter app.kubernetes.io/component=account ktcloud-lb-exporter/account=${account} -o yaml`,
    `kubectl -n ${ns} ${store} -f -`,
  ];
  const SLOT_FORMAT = `printf 'ACCOUNT_NAME=%s\\nCLOUD_ID=%s\\nCLOUD_PASSWORD=%s\\nCLOUD_ZONE=%s\\n'`;
  const CREDS = { CLOUD_ID: 'ops@example.com', CLOUD_PASSWORD: "p@ss w'rd $HOME" };
  /** What `kubectl get secrets` prints through the script's template: name TAB ACCOUNT_NAME. */
  const EXISTING = 'default-token-x\t\nktcloud-account-00\tteam-a\nktcloud-account-01\t\nktcloud-account-03\tteam-c\n';

  it('--dry-run lists the Secrets (read-only) and prints the creation of the first free slot, credentials as variables', () => {
    const r = script(abs(ADD), ['semascrd', '--zones', 'DX-G-YS,DX-M1', '--dry-run'], CREDS, EXISTING);
    expect(r.status, r.stderr).toBe(0);
    // Slot 01 holds a Secret without ACCOUNT_NAME: taken all the same. 02 is the first free one.
    expect(commands(r.stdout)).toEqual([`${SLOT_FORMAT} semascrd "$CLOUD_ID" "$CLOUD_PASSWORD" DX-G-YS,DX-M1 | ${pipeline('monitoring', 'ktcloud-account-02', 'semascrd', 'create').join(' | ')}`]);
    expect(r.stdout).toContain('# ktcloud-account-02 is the first free slot in monitoring');
    expect(r.calls).toEqual([lookup('monitoring')]);
    for (const v of Object.values(CREDS)) expect(r.stdout + r.stderr).not.toContain(v);
  });

  it('--zones auto stands alone: the Secret says CLOUD_ZONE=auto (the exporter discovers the zones)', () => {
    const r = script(abs(ADD), ['semascrd', '--zones', 'auto', '--dry-run'], CREDS, EXISTING);
    expect(r.status, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual([`${SLOT_FORMAT} semascrd "$CLOUD_ID" "$CLOUD_PASSWORD" auto | ${pipeline('monitoring', 'ktcloud-account-02', 'semascrd', 'create').join(' | ')}`]);
  });

  it('an account already in a slot is rotated in place (apply), in no other slot', () => {
    const r = script(abs(ADD), ['team-c', '--zones', 'DX-M1', '--namespace', 'monitoring-dev', '--dry-run'], {}, EXISTING);
    expect(r.status, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual([`${SLOT_FORMAT} team-c "$CLOUD_ID" "$CLOUD_PASSWORD" DX-M1 | ${pipeline('monitoring-dev', 'ktcloud-account-03', 'team-c', 'apply').join(' | ')}`]);
    expect(r.stdout).toContain('# team-c is in slot ktcloud-account-03');
  });

  it('a pinned account (its own Secret, one line in the list) updates that Secret, without ACCOUNT_NAME and without listing', () => {
    const r = script(abs(ADD), ['ktcloud-test', '--zones', 'DX-M1', '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual([
      `printf 'CLOUD_ID=%s\\nCLOUD_PASSWORD=%s\\nCLOUD_ZONE=%s\\n' "$CLOUD_ID" "$CLOUD_PASSWORD" DX-M1 | ${pipeline('monitoring', 'ktcloud-test', 'ktcloud-test', 'apply').join(' | ')}`,
    ]);
    expect(r.calls).toEqual([]);
  });

  it('runs what it prints: the credentials reach kubectl on stdin only, and no file is edited', () => {
    const before = readFileSync(abs(LIST), 'utf8');
    const r = script(abs(ADD), ['semascrd', '--zones', 'DX-G-YS', '--namespace', 'monitoring-staging'], CREDS, EXISTING);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([lookup('monitoring-staging'), ...pipeline('monitoring-staging', 'ktcloud-account-02', 'semascrd', 'create')]);
    expect(readFileSync(`${callLog}.stdin`, 'utf8')).toBe(`ACCOUNT_NAME=semascrd\nCLOUD_ID=${CREDS.CLOUD_ID}\nCLOUD_PASSWORD=${CREDS.CLOUD_PASSWORD}\nCLOUD_ZONE=DX-G-YS\n`);
    for (const v of Object.values(CREDS)) expect(r.calls.join('\n') + r.stdout + r.stderr).not.toContain(v);
    expect(readFileSync(abs(LIST), 'utf8')).toBe(before);
  });

  it('refuses when every declared slot is taken, or when two slots already name the account', () => {
    const slots = [...readFileSync(abs(LIST), 'utf8').matchAll(/\{ name: (ktcloud-account-\d+), optional: true,/g)].map((m) => m[1]);
    const full = script(abs(ADD), ['semascrd', '--zones', 'DX-M1', '--dry-run'], {}, slots.map((n) => `${n}\tx-${n}\n`).join(''));
    expect(full.status).toBe(1);
    expect(full.stderr).toContain(`all ${slots.length} slots of ${LIST} are taken in monitoring`);
    expect(full.stdout).toBe('');
    const twice = script(abs(ADD), ['team-a', '--zones', 'DX-M1', '--dry-run'], {}, `${EXISTING}ktcloud-account-07\tteam-a\n`);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain('Secrets ktcloud-account-00 ktcloud-account-07 all name account team-a');
  });

  it('fails clearly when the Secrets cannot be listed', () => {
    const r = script(abs(ADD), ['semascrd', '--zones', 'DX-M1', '--dry-run'], { FAKE_FAIL: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('add-account.sh: cannot list the Secrets of namespace monitoring (kubectl get secrets failed)');
    expect(r.stdout).toBe('');
  });

  it('refuses to run without credentials and without a terminal to ask on, before asking the cluster anything', () => {
    const r = script(abs(ADD), ['nocreds', '--zones', 'DX-M1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('set CLOUD_ID in the environment');
    expect(r.calls).toEqual([]);
  });

  it.each([
    [[]],
    [['semascrd']],
    [['semascrd', '--zones']],
    [['semascrd', '--zones', 'DX-M2']],
    [['semascrd', '--zones', 'auto,DX-M1']],
    [['Sema_SCRD', '--zones', 'DX-M1']],
    [['semascrd', '--zones', 'DX-M1', '--namespace', 'Bad NS']],
    [['semascrd', 'other', '--zones', 'DX-M1']],
    [['semascrd', '--zones', 'DX-M1', '--force']],
  ])('rejects %j with exit code 2 and runs nothing', (args) => {
    const r = script(abs(ADD), args, { DRY_RUN: '1', ...CREDS });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: scripts\/add-account\.sh|add-account\.sh: /);
    expect(r.stdout).toBe('');
    expect(r.calls).toEqual([]);
  });
});

describe('script hygiene', () => {
  it.each([DEPLOY, SETUP, ADD])('%s is executable bash with strict mode', (file) => {
    const text = readFileSync(abs(file), 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('\nset -euo pipefail\n');
    expect(run('test', ['-x', abs(file)]).status).toBe(0);
  });
});

describeWith([SHELLCHECK], 'shellcheck', () => {
  it.each([DEPLOY, SETUP, ADD])('%s is clean', (file) => {
    // -x follows `source scripts/lib.sh`, so the shared helpers are checked in context too.
    const r = run('shellcheck', ['-x', file]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('the --dry-run output of every action is itself a clean shell script', () => {
    const outputs = [
      ...DEPLOY_CASES.map(([env, action]) => script(abs(DEPLOY), [env, action, '--dry-run']).stdout),
      ...Object.keys(SETUP_EXPECTED).map((action) => script(abs(SETUP), [action, '--dry-run']).stdout),
      script(abs(ADD), ['semascrd', '--zones', 'DX-G-YS', '--dry-run']).stdout,
      script(abs(ADD), ['team-c', '--zones', 'DX-G-YS', '--dry-run'], {}, 'ktcloud-account-00\tteam-c\n').stdout,
      script(abs(ADD), ['ktcloud-test', '--zones', 'DX-M1', '--dry-run']).stdout,
    ];
    const r = run('shellcheck', ['--shell=bash', '-'], { input: outputs.join('') });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
