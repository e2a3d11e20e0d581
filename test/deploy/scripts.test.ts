/**
 * scripts/deploy.sh, scripts/setup-argocd.sh and scripts/add-account.sh: argument checking, the commands each action
 * runs (printed by --dry-run, and really run against stand-in kubectl/argocd programs), and
 * shellcheck on the scripts and on what they print.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      `#!/usr/bin/env bash\n[[ " $* " == *" -f - "* ]] && cat > /dev/null\n[[ " $* " == *"=/dev/stdin "* ]] && cat >> "${callLog}.stdin"\necho "${tool} $*" >> "${callLog}"\n`,
    );
    chmodSync(file, 0o755);
  }
});
afterAll(() => rmSync(fakeBin, { recursive: true, force: true }));

function script(file: string, args: string[], env: Record<string, string> = {}): RunResult & { calls: string[] } {
  writeFileSync(callLog, '');
  writeFileSync(`${callLog}.stdin`, '');
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
  const line = (name: string) =>
    `              - secret: { name: ${name}, optional: true, items: [{ key: CLOUD_ID, path: ${name}/CLOUD_ID }, { key: CLOUD_PASSWORD, path: ${name}/CLOUD_PASSWORD }, { key: CLOUD_ZONE, path: ${name}/CLOUD_ZONE }] }`;
  const secretPipeline = (ns: string, name: string) => [
    `kubectl -n ${ns} create secret generic ${name} --from-env-file=/dev/stdin --dry-run=client -o yaml`,
    'kubectl label --local -f - app.kubernetes.io/name=ktcloud-lb-exporter app.kubernetes.io/component=account -o yaml',
    `kubectl -n ${ns} apply -f -`,
  ];
  const CREDS = { CLOUD_ID: 'ops@example.com', CLOUD_PASSWORD: "p@ss w'rd $HOME" };

  /** A throw-away repository root holding the scripts and the accounts list: real runs edit it. */
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ktcloud-add-root-'));
    cpSync(abs('scripts'), join(root, 'scripts'), { recursive: true });
    mkdirSync(join(root, 'k8s-manifests'));
    cpSync(abs('k8s-manifests/accounts'), join(root, 'k8s-manifests/accounts'), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('--dry-run prints the Secret pipeline and the one-line edit, with the credentials as variables, and runs nothing', () => {
    const r = script(abs(ADD), ['semascrd', '--zones', 'DX-G-YS,DX-M1', '--dry-run'], CREDS);
    expect(r.status, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual([
      `printf 'CLOUD_ID=%s\\nCLOUD_PASSWORD=%s\\nCLOUD_ZONE=%s\\n' "$CLOUD_ID" "$CLOUD_PASSWORD" DX-G-YS,DX-M1 | ${secretPipeline('monitoring', 'semascrd').join(' | ')}`,
      `printf '%s\\n' '${line('semascrd')}' >> ${LIST}`,
    ]);
    expect(r.calls).toEqual([]);
    for (const v of Object.values(CREDS)) expect(r.stdout + r.stderr).not.toContain(v);
  });

  it('an account already listed needs only its Secret: no edit, the pods load it live', () => {
    const r = script(abs(ADD), ['ktcloud-test', '--zones', 'DX-M1', '--namespace', 'monitoring-dev', '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const cmds = commands(r.stdout);
    expect(cmds).toHaveLength(1);
    expect(cmds[0]).toContain(secretPipeline('monitoring-dev', 'ktcloud-test').join(' | '));
    expect(r.stdout).toContain('# ktcloud-test is already listed');
  });

  it('runs what it prints: the credentials reach kubectl on stdin only, and the line is added once', () => {
    const file = join(root, LIST);
    const before = readFileSync(file, 'utf8');
    const r = script(join(root, ADD), ['semascrd', '--zones', 'DX-G-YS', '--namespace', 'monitoring-staging'], CREDS);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(secretPipeline('monitoring-staging', 'semascrd'));
    expect(readFileSync(`${callLog}.stdin`, 'utf8')).toBe(`CLOUD_ID=${CREDS.CLOUD_ID}\nCLOUD_PASSWORD=${CREDS.CLOUD_PASSWORD}\nCLOUD_ZONE=DX-G-YS\n`);
    for (const v of Object.values(CREDS)) expect(r.calls.join('\n') + r.stdout + r.stderr).not.toContain(v);
    expect(readFileSync(file, 'utf8')).toBe(`${before}${line('semascrd')}\n`);
    // Again (a rotation, or the same account in another namespace): the Secret only.
    const again = script(join(root, ADD), ['semascrd', '--zones', 'DX-G-YS'], CREDS);
    expect(again.status, again.stderr).toBe(0);
    expect(again.calls).toEqual(secretPipeline('monitoring', 'semascrd'));
    expect(readFileSync(file, 'utf8')).toBe(`${before}${line('semascrd')}\n`);
  });

  it('refuses to run without credentials and without a terminal to ask on', () => {
    const r = script(join(root, ADD), ['nocreds', '--zones', 'DX-M1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('set CLOUD_ID in the environment');
    expect(r.calls).toEqual([]);
    expect(readFileSync(join(root, LIST), 'utf8')).not.toContain('nocreds');
  });

  it.each([
    [[]],
    [['semascrd']],
    [['semascrd', '--zones']],
    [['semascrd', '--zones', 'DX-M2']],
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

  it('writes the line in the form the shipped list uses', () => {
    expect(readFileSync(abs(LIST), 'utf8')).toContain(`${line('ktcloud-test')}\n`);
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
      script(abs(ADD), ['ktcloud-test', '--zones', 'DX-M1', '--dry-run']).stdout,
    ];
    const r = run('shellcheck', ['--shell=bash', '-'], { input: outputs.join('') });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
