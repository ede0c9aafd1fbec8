// The package as an app gets it: `npm pack`ed, installed from the tarball into fresh apps made like
// `cdk8s init typescript-app` (its tsconfig, verbatim in template-tsconfig.json from cdk8s-cli
// 2.207.60, and its TypeScript), at the oldest and the newest versions of our peer dependencies, and
// into an app on cdk8s-plus-33. Each app compiles and runs the README's two examples and a client
// wired through cdk8s-plus' connections API, with the cdk8s-plus it uses; every object they
// synthesize validates strictly against the Kubernetes 1.28 and 1.36 definitions. It needs the npm
// registry (npm's cache saves the downloads): without it, it fails and says so.
import { spawnSync } from 'child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative, resolve } from 'path';
import { Yaml } from 'cdk8s';
import { SCHEMA_FILES, strictValidators } from '../strict-schema';

const ROOT = join(__dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const PEERS = ['cdk8s', 'constructs', 'cdk8s-plus-28'];
/** A newer cdk8s-plus an app may use beside ours: its newest release when this test was written. */
const CDK8S_PLUS_33 = '2.5.57';
/** What `cdk8s init typescript-app` (cdk8s-cli 2.207.60) puts in an app's devDependencies to compile it. */
const TEMPLATE_DEV_DEPENDENCIES = { 'typescript': '5.9.x', '@types/node': '^14' };
/** Reuses npm's cache; one retry, so that a lost registry fails in seconds, not minutes. */
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--fetch-retries=1', '--fetch-retry-maxtimeout=10000'];
/** The labels of every pod of the instance named `redis`. */
const REDIS_PODS = { 'app.kubernetes.io/instance': 'redis', 'app.kubernetes.io/name': 'redis' };

/** The lower end of a peer range: the version the oldest app is tested at. */
function lowerEnd(name: string): string {
  const range: string = PKG.peerDependencies[name];
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!m) throw new Error(`peerDependencies.${name} is '${range}': write it as ^MAJOR.MINOR.PATCH, its lower end being the version this test installs`);
  return m[1];
}

const OLDEST = Object.fromEntries(PEERS.map((p) => [p, lowerEnd(p)]));
/** Our build's own pins: the newest releases. */
const NEWEST = Object.fromEntries(PEERS.map((p) => [p, PKG.devDependencies[p] as string]));

/** The README's fenced `ts` blocks that follow a `<!-- consumer-example: NAME -->` line, by NAME. */
function readmeExamples(): Record<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return Object.fromEntries([...readme.matchAll(/<!-- consumer-example: ([\w-]+) -->\n```ts\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));
}

const EXAMPLES = readmeExamples();

function example(name: string): string {
  if (!(name in EXAMPLES)) throw new Error(`README.md has no \`ts\` block after a line <!-- consumer-example: ${name} -->`);
  return EXAMPLES[name];
}

/** The cdk8s-plus an app's code imports: ours, or a newer one. */
type Cdk8sPlus = 'cdk8s-plus-28' | 'cdk8s-plus-33';

/** An example as an app on another cdk8s-plus writes it: the same code, that package's import. */
function importing(plus: Cdk8sPlus, source: string): string {
  const rewritten = source.replace(/from 'cdk8s-plus-28'/g, `from '${plus}'`);
  if (plus !== 'cdk8s-plus-28' && rewritten === source) throw new Error('the example does not import from \'cdk8s-plus-28\' any more: update this test');
  return rewritten;
}

/** cdk8s-plus' default allowTo (a policy on each side) across namespaces, our allowFrom and addConnectionEnv. */
const CLIENT = `import { App, Chart } from 'cdk8s';
import { Deployment } from 'cdk8s-plus-28';
import { RedisSentinel, writeLaunch } from 'cdk8s-redis-sentinel';

const app = new App();
const redis = new RedisSentinel(new Chart(app, 'data', { namespace: 'data' }), 'Redis');
const web = new Deployment(new Chart(app, 'web', { namespace: 'web' }), 'Web', { containers: [{ image: 'example/web:1.0' }] });
web.connections.allowTo(redis);
redis.allowFrom(web);
redis.addConnectionEnv(web.containers[0]);
app.synth();
writeLaunch(app);
`;

interface ConsumerApp {
  readonly dependencies: Record<string, string>;
  /** Program name to TypeScript source; each runs with its own output folder. */
  readonly programs: Record<string, string>;
}

function consumerApp(dependencies: Record<string, string>, plus: Cdk8sPlus): ConsumerApp {
  return { dependencies, programs: { 'basic': example('basic'), 'multi-chart': importing(plus, example('multi-chart')), 'client': importing(plus, CLIENT) } };
}

const APPS: Array<[string, ConsumerApp]> = [
  [`the oldest supported peers (${PEERS.map((p) => `${p} ${OLDEST[p]}`).join(', ')})`, consumerApp(OLDEST, 'cdk8s-plus-28')],
  [`the newest peers (${PEERS.map((p) => `${p} ${NEWEST[p]}`).join(', ')})`, consumerApp(NEWEST, 'cdk8s-plus-28')],
  // An app written for cdk8s-plus-33 declares no cdk8s-plus-28: npm installs it as our peer.
  [`cdk8s-plus-33 ${CDK8S_PLUS_33} with the newest cdk8s and constructs, and no cdk8s-plus-28 of its own`,
    consumerApp({ 'cdk8s': NEWEST.cdk8s, 'constructs': NEWEST.constructs, 'cdk8s-plus-33': CDK8S_PLUS_33 }, 'cdk8s-plus-33')],
];

/** Runs a command; on failure, throws with what it was for and the end of its output. */
function run(what: string, command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const said = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${what} failed (${r.error ? r.error.message : `exit ${r.status}`}) in ${cwd}:\n${said}`);
  }
  return r.stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]);
}

const validators = new Map<string, ReturnType<typeof strictValidators>>();
function validatorsOf(file: string): ReturnType<typeof strictValidators> {
  if (!validators.has(file)) validators.set(file, strictValidators(file));
  return validators.get(file)!;
}

/** Every object of the manifests a program's synth wrote (the top level of its output folder). */
function manifests(outdir: string): any[] {
  return readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml')).sort().flatMap((f) => Yaml.load(join(outdir, f)));
}

test('the README has the two examples, and states the ranges this test covers', () => {
  expect(Object.keys(EXAMPLES).sort()).toEqual(['basic', 'multi-chart']);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const p of PEERS) expect(readme).toContain(`| \`${p}\` | \`${PKG.peerDependencies[p]}\` | ${OLDEST[p]}, ${NEWEST[p]} |`);
  expect(readme).toContain(`cdk8s-plus-33 ${CDK8S_PLUS_33}`);
});

describe('the packed package, installed in apps', () => {
  let work = '';
  let tarball: string | undefined;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'consumer-'));
    const registry = run('npm config get registry', 'npm', ['config', 'get', 'registry'], ROOT).trim();
    try {
      run('npm ping', 'npm', ['ping', '--fetch-retries=0', '--fetch-timeout=20000'], ROOT);
    } catch (e) {
      throw new Error(`The consumer test installs packages from the npm registry (${registry}), which did not answer: `
        + `it needs network access to the registry and does not skip without it.\n${(e as Error).message}`);
    }
    run('npm pack (its prepack script builds lib/)', 'npm', ['pack', '--pack-destination', work], ROOT);
    tarball = join(work, `${PKG.name}-${PKG.version}.tgz`);
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe.each(APPS)('an app on %s', (_versions, app) => {
    let dir = '';
    const outdir = (program: string) => join(dir, 'out', program);

    beforeAll(() => {
      if (!tarball) throw new Error('not run: the package was not packed (see the first failure)');
      dir = mkdtempSync(join(work, 'app-'));
      const dependencies = { ...app.dependencies, [PKG.name]: `file:${tarball}` };
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies, devDependencies: TEMPLATE_DEV_DEPENDENCIES }, null, 2));
      copyFileSync(join(__dirname, 'template-tsconfig.json'), join(dir, 'tsconfig.json'));
      for (const [name, source] of Object.entries(app.programs)) writeFileSync(join(dir, `${name}.ts`), source);
      run('npm install', 'npm', NPM_INSTALL, dir);
      // The template's `npm run compile`, under its tsconfig (strict, noUnusedLocals, no skipLibCheck).
      run('tsc --build', process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--build'], dir);
      for (const name of Object.keys(app.programs)) run(`node ${name}.js`, process.execPath, [`${name}.js`], dir, { CDK8S_OUTDIR: outdir(name) });
    }, 240_000);

    test('npm ls cdk8s constructs cdk8s-plus-28: one copy of each, at the app\'s versions', () => {
      const paths = run('npm ls', 'npm', ['ls', ...PEERS, '--all', '--parseable'], dir).trim().split('\n')
        .map((p) => relative(dir, p)).filter((p) => p !== '');
      expect(paths.sort()).toEqual(PEERS.map((p) => `node_modules/${p}`).sort());
      for (const p of PEERS.filter((name) => name in app.dependencies)) {
        expect(JSON.parse(readFileSync(join(dir, 'node_modules', p, 'package.json'), 'utf8')).version).toBe(app.dependencies[p]);
      }
    });

    describe.each(Object.keys(app.programs))('%s', (program) => {
      test.each(SCHEMA_FILES)('every synthesized object validates strictly against %s', (file) => {
        const validatorFor = validatorsOf(file);
        const docs = manifests(outdir(program));
        expect(docs.length).toBeGreaterThan(0);
        const errors = docs.flatMap((doc) => {
          const validate = validatorFor(doc);
          return validate(doc) ? [] : [`${doc.apiVersion}/${doc.kind} ${doc.metadata?.name}: ${JSON.stringify(validate.errors)}`];
        });
        expect(errors).toEqual([]);
      });

      test('writeLaunch wrote an executable launch per instance, applying files synth wrote', () => {
        const instances = manifests(outdir(program)).filter((d) => d.kind === 'ConfigMap' && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');
        const plans = filesUnder(join(outdir(program), 'launch')).filter((f) => f.endsWith('steps.json'));
        expect(plans).toHaveLength(instances.length);
        for (const plan of plans) {
          const folder = resolve(plan, '..');
          expect(statSync(join(folder, 'launch.sh')).mode & 0o111).toBe(0o111);
          const { files, context } = JSON.parse(readFileSync(plan, 'utf8'));
          for (const f of files) expect(readdirSync(resolve(folder, context.manifestDir))).toContain(f);
        }
      });
    });

    test('client: cdk8s-plus\' connections.allowTo(redis) selects the instance\'s pods on both sides; addConnectionEnv', () => {
      const docs = manifests(outdir('client'));
      const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
      const webPods = (peer: any) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'web' && peer.podSelector?.matchLabels?.['cdk8s.io/metadata.addr'];
      const redisPodsInData = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } }, podSelector: { matchLabels: REDIS_PODS } };
      // The web pods' egress to the instance's pods (cdk8s-plus read our toNetworkPolicyPeerConfig()).
      expect(policies.filter((p) => p.metadata.namespace === 'web' && p.spec.egress?.some((r: any) => r.to?.some((t: any) => expect.objectContaining(redisPodsInData).asymmetricMatch(t))))).toHaveLength(1);
      // The instance's ingress from the web pods, in its namespace (cdk8s-plus read our toPodSelector()).
      expect(policies.filter((p) => p.metadata.namespace === 'data' && p.spec.policyTypes.join() === 'Ingress'
        && expect.objectContaining({ matchLabels: REDIS_PODS }).asymmetricMatch(p.spec.podSelector) && p.spec.ingress[0].from.some(webPods))).toHaveLength(1);
      // Our own policy took the Deployment as a peer through allowFrom().
      const own = policies.find((p) => p.metadata.name === 'redis' && p.metadata.namespace === 'data');
      expect(own.spec.ingress[0].from.some(webPods)).toBe(true);
      expect(docs.find((d) => d.kind === 'Deployment').spec.template.spec.containers[0].env).toEqual([
        { name: 'REDIS_SENTINEL_HOST', value: 'redis-sentinel.data.svc' },
        { name: 'REDIS_SENTINEL_PORT', value: '26379' },
        { name: 'REDIS_MASTER_NAME', value: 'mymaster' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'client-password' } } },
      ]);
    });
  });
});
