// writeLaunch(app) beside an app's own synth: where the launch files go, which manifest file each
// plan applies (cdk8s' names, with and without chart dependencies), and that it touches no manifest.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { App, Chart } from 'cdk8s';
import { RedisSentinel, writeLaunch } from '../src';

function listFiles(dir: string, top = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), top) : [relative(top, join(dir, e.name))]).sort();
}

describe('writeLaunch', () => {
  let outdir: string;
  beforeEach(() => { outdir = mkdtempSync(join(tmpdir(), 'write-launch-')); });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  test('one instance: flat launch/, the plan applies its chart\'s file, in the chart\'s namespace', () => {
    const app = new App({ outdir });
    const chart = new Chart(app, 'team-a', { namespace: 'team-a' });
    const redis = new RedisSentinel(chart, 'Redis');
    app.synth();
    const [w] = writeLaunch(app);
    expect(w.folder).toBe('launch');
    expect(w.plan.files).toEqual(['team-a.k8s.yaml']);
    expect(w.plan.context.namespace).toBe('team-a');
    expect(redis.sentinelHost).toBe('redis-sentinel.team-a.svc');
    expect(readFileSync(join(outdir, 'launch', 'launch.sh'), 'utf8')).toContain("NAMESPACE=${NAMESPACE:-'team-a'}");
  });

  test('two instances in two charts with a dependency: a folder each, the NNNN- files cdk8s wrote, no manifest touched', () => {
    const app = new App({ outdir });
    const a = new Chart(app, 'team-a', { namespace: 'team-a' });
    const b = new Chart(app, 'team-b', { namespace: 'team-b' });
    b.addDependency(a);
    new RedisSentinel(a, 'Redis');
    new RedisSentinel(b, 'Cache', { name: 'cache' });
    app.synth();
    const manifests = listFiles(outdir);
    expect(manifests).toEqual(['0000-team-a.k8s.yaml', '0001-team-b.k8s.yaml']);
    const before = manifests.map((f) => readFileSync(join(outdir, f), 'utf8'));
    const written = writeLaunch(app);
    expect(written.map((w) => [w.folder, w.plan.files, w.plan.context.manifestDir])).toEqual([
      ['launch/redis', ['0000-team-a.k8s.yaml'], '../..'],
      ['launch/cache', ['0001-team-b.k8s.yaml'], '../..'],
    ]);
    expect(listFiles(outdir)).toEqual([...manifests, ...['cache', 'redis'].flatMap((n) => ['launch.sh', 'steps.json', 'steps.md'].map((f) => `launch/${n}/${f}`))].sort());
    expect(manifests.map((f) => readFileSync(join(outdir, f), 'utf8'))).toEqual(before);
  });

  test('the same name in two namespaces gets <namespace>-<name> folders', () => {
    const app = new App({ outdir });
    new RedisSentinel(new Chart(app, 'one', { namespace: 'one' }), 'Redis');
    new RedisSentinel(new Chart(app, 'two', { namespace: 'two' }), 'Redis');
    app.synth();
    expect(writeLaunch(app).map((w) => w.folder)).toEqual(['launch/one-redis', 'launch/two-redis']);
  });

  test('before app.synth() it says what to do', () => {
    const app = new App({ outdir });
    new RedisSentinel(new Chart(app, 'c'), 'Redis');
    expect(() => writeLaunch(app)).toThrow(/c\.k8s\.yaml does not exist: call app\.synth\(\) before writeLaunch\(app\)/);
  });
});
