// The app behind `npm run synth`: the exact ordered file list of dist/, and the committed dist/
// equals a fresh synth.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
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
    const scratch = join(ROOT, 'tmp');
    require('fs').mkdirSync(scratch, { recursive: true });
    fresh = mkdtempSync(join(scratch, 'synth-'));
    main(fresh);
  });
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  test('holds exactly these files, the manifests in apply order', () => {
    expect(listFiles(fresh)).toEqual([
      '00-config.k8s.yaml',
      '01-master-pod.k8s.yaml',
      '02-sentinel-service.k8s.yaml',
      '03-redis-controller.k8s.yaml',
      '04-sentinel-controller.k8s.yaml',
      'launch/launch.sh',
      'launch/steps.json',
      'launch/steps.md',
    ]);
  });

  test('the top level holds only Kubernetes manifests, in the seed\'s create order', () => {
    const top = readdirSync(fresh).filter((f) => statSync(join(fresh, f)).isFile()).sort();
    expect(top.every((f) => f.endsWith('.k8s.yaml'))).toBe(true);
    const kinds = top.map((f) => Yaml.load(join(fresh, f)).map((d: any) => `${d.kind}/${d.metadata.name}`));
    expect(kinds).toEqual([
      ['ConfigMap/redis-config'], ['Pod/redis-master'], ['Service/redis-sentinel'],
      ['ReplicationController/redis'], ['ReplicationController/redis-sentinel'],
    ]);
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

  test('synth empties the output folder first', () => {
    require('fs').writeFileSync(join(fresh, 'stale.yaml'), 'kind: Stale\n');
    main(fresh);
    expect(listFiles(fresh)).not.toContain('stale.yaml');
  });

  test('synth refuses to empty a folder outside the working directory', () => {
    expect(() => main('/')).toThrow(/refusing to empty \/: the output folder must lie inside the working directory/);
  });

  test('no synthesized file holds a password', () => {
    for (const file of listFiles(fresh)) {
      expect(readFileSync(join(fresh, file), 'utf8')).not.toMatch(/requirepass\s+\S|masterauth\s+\S|auth-pass\s+\S|password:\s*\S/i);
    }
  });
});
