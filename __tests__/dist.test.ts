// The app behind `npm run synth`: the exact file list of dist/, the apply order inside its manifest,
// and the committed dist/ equals a fresh synth.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { Yaml } from 'cdk8s';
import { main } from '../src/main';

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');

function listFiles(dir: string, top = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), top) : [relative(top, join(dir, e.name))]).sort();
}

describe('dist/', () => {
  let fresh: string;
  beforeAll(() => {
    fresh = mkdtempSync(join(tmpdir(), 'synth-'));
    main(fresh);
  });
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  test('holds exactly these files: the chart as app.synth() writes it, and the launch files', () => {
    expect(listFiles(fresh)).toEqual([
      'launch/launch.sh',
      'launch/steps.json',
      'launch/steps.md',
      'redis-sentinel.k8s.yaml',
      'statefulset/redis-ha.k8s.yaml',
    ]);
  });

  test('the manifest lists the objects in a working apply order: configuration and policies, then the seed\'s order', () => {
    const top = readdirSync(fresh).filter((f) => statSync(join(fresh, f)).isFile());
    expect(top).toEqual(['redis-sentinel.k8s.yaml']);
    expect(Yaml.load(join(fresh, top[0])).map((d: any) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ConfigMap/redis-config', 'NetworkPolicy/redis', 'PodDisruptionBudget/redis', 'PodDisruptionBudget/redis-sentinel',
      'Pod/redis-master', 'Service/redis-sentinel', 'Service/redis-headless', 'ReplicationController/redis', 'ReplicationController/redis-sentinel',
    ]);
  });

  test('the StatefulSet topology sits in its own folder, with names apart from the classic ones', () => {
    const classic = Yaml.load(join(fresh, 'redis-sentinel.k8s.yaml')).map((d: any) => `${d.kind}/${d.metadata.name}`);
    const sts = Yaml.load(join(fresh, 'statefulset', 'redis-ha.k8s.yaml')).map((d: any) => `${d.kind}/${d.metadata.name}`);
    expect(sts).toEqual(['ConfigMap/redis-ha-config', 'NetworkPolicy/redis-ha', 'PodDisruptionBudget/redis-ha', 'Service/redis-ha-sentinel',
      'Service/redis-ha-headless', 'StatefulSet/redis-ha']);
    expect(sts.filter((o: string) => classic.includes(o))).toEqual([]);
  });

  test('the launch script is executable', () => {
    expect(statSync(join(fresh, 'launch', 'launch.sh')).mode & 0o111).toBe(0o111);
  });

  test('the committed dist/ equals a fresh synth (run `npm run synth` and commit when this fails)', () => {
    expect(listFiles(DIST)).toEqual(listFiles(fresh));
    for (const file of listFiles(fresh)) {
      expect({ file, text: readFileSync(join(DIST, file), 'utf8') }).toEqual({ file, text: readFileSync(join(fresh, file), 'utf8') });
    }
    expect(statSync(join(DIST, 'launch', 'launch.sh')).mode & 0o111).toBe(0o111);
  });

  test('synth into a folder outside the working directory works, and deletes nothing that is there', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'elsewhere-'));
    try {
      writeFileSync(join(elsewhere, 'mine.yaml'), 'kind: Mine\n');
      main(elsewhere);
      expect(listFiles(elsewhere)).toEqual(['launch/launch.sh', 'launch/steps.json', 'launch/steps.md', 'mine.yaml', 'redis-sentinel.k8s.yaml', 'statefulset/redis-ha.k8s.yaml']);
      expect(readFileSync(join(elsewhere, 'mine.yaml'), 'utf8')).toBe('kind: Mine\n');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test('no synthesized file holds a password', () => {
    for (const file of listFiles(fresh)) {
      expect(readFileSync(join(fresh, file), 'utf8')).not.toMatch(/requirepass\s+[^\s%]|masterauth\s+[^\s%]|auth-pass\s+[^\s%]|password:\s*\S|>[A-Za-z0-9]{16,}/i);
    }
  });
});
