// @ts-check
// `npm run bench`: synth speed, each run a fresh node process, ours and a bare cdk8s app alternating.
// 1. The ready app: `node scripts/synth.js` (what `npm run synth` runs) against a bare app that makes
//    the same objects through the L1 classes (bench/bare-app.js; its output is checked to be
//    byte-identical), then `npm run synth` itself (npm's start-up included).
// 2. Synth at scale (issue 10): BENCH_SCALE instances (1000), one chart each and all in one chart,
//    against a bare app making the same objects through the L1 classes in the same charts
//    (bench/scale-app.js): time from the first construct to the end of app.synth(), and peak RSS.
// Not a test: numbers vary with the machine's load. BENCH_RUNS, BENCH_SCALE_RUNS, BENCH_SCALE=0.
const { execFileSync, spawnSync } = require('child_process');
const { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('fs');
const { join } = require('path');
const YAML = require('yaml');

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SCALE = Number(process.env.BENCH_SCALE ?? 1000);
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const work = join(ROOT, 'tmp', 'bench');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** @param {string} dir @returns {any[]} every document of the folder's manifest files, in file order */
function manifests(dir) {
  return readdirSync(dir).filter((f) => f.endsWith('.k8s.yaml')).sort()
    .flatMap((f) => YAML.parseAllDocuments(readFileSync(join(dir, f), 'utf8'), { version: '1.1' }).map((d) => d.toJS()));
}

// Make sure lib/ is fresh, so no run pays for a rebuild, and prepare the bare app's input.
execFileSync(process.execPath, [join(ROOT, 'scripts', 'synth.js')], { cwd: ROOT, env: { ...process.env, CDK8S_OUTDIR: join(work, 'warm') } });
const defaultObjects = manifests(join(work, 'warm'));
writeFileSync(join(work, 'objects.json'), JSON.stringify(defaultObjects));
execFileSync(process.execPath, [join(__dirname, 'bare-app.js'), join(work, 'objects.json'), join(work, 'bare-check')]);
if (readFileSync(join(work, 'bare-check', 'redis-sentinel.k8s.yaml'), 'utf8') !== readFileSync(join(work, 'warm', 'redis-sentinel.k8s.yaml'), 'utf8')) {
  throw new Error('bench: the bare app does not make the same objects as ours');
}

/** @param {string} cmd @param {string[]} args @param {Record<string, string>} [env] @returns {number} wall ms */
function time(cmd, args, env = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
/** @param {number[]} xs */
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
/** @param {number[]} xs @param {string} [unit] */
const fmt = (xs, unit = 'ms') => `median ${median(xs).toFixed(0)} ${unit} (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;

/** @type {number[]} */
const ours = [];
/** @type {number[]} */
const bare = [];
for (let i = 0; i < RUNS; i++) {
  ours.push(time(process.execPath, [join(ROOT, 'scripts', 'synth.js')], { CDK8S_OUTDIR: join(work, 'ours') }));
  bare.push(time(process.execPath, [join(__dirname, 'bare-app.js'), join(work, 'objects.json'), join(work, 'bare')]));
}
/** @type {number[]} */
const npmRuns = [];
for (let i = 0; i < Math.min(RUNS, 5); i++) npmRuns.push(time('npm', ['run', 'synth', '--silent'], { CDK8S_OUTDIR: join(work, 'npm') }));

console.log(`synth (node scripts/synth.js):    ${fmt(ours)}`);
console.log(`bare cdk8s app, same objects:     ${fmt(bare)}`);
console.log(`ratio synth / bare (medians):     ${(median(ours) / median(bare)).toFixed(2)}x  (target <= 1.30x)`);
console.log(`npm run synth (with npm start-up): ${fmt(npmRuns)}  (target < 1000 ms)`);

if (SCALE > 0) {
  /** @param {string} mode @param {string} shape @param {string} out @returns {{ ms: number, maxRssMiB: number, objects: number }} */
  const scaleRun = (mode, shape, out) => {
    const r = spawnSync(process.execPath, [join(__dirname, 'scale-app.js'), mode, shape, String(SCALE), out, join(work, 'scale-objects.json')],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`scale-app ${mode} ${shape} exited ${r.status}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  };
  // The bare app's input: what our instances make, one run of ours.
  scaleRun('ours', 'chart-each', join(work, 'scale-input'));
  writeFileSync(join(work, 'scale-objects.json'), JSON.stringify(manifests(join(work, 'scale-input'))));
  console.log(`\nsynth at scale: ${SCALE} instances (${SCALE * defaultObjects.length} objects), construct + app.synth(), ours and bare alternating`);
  for (const shape of ['chart-each', 'one-chart']) {
    /** @type {Record<string, { ms: number[], rss: number[] }>} */
    const runs = { ours: { ms: [], rss: [] }, bare: { ms: [], rss: [] } };
    for (let i = 0; i < SCALE_RUNS; i++) {
      for (const mode of ['ours', 'bare']) {
        const r = scaleRun(mode, shape, join(work, `scale-${mode}`));
        if (r.objects !== SCALE * defaultObjects.length) throw new Error(`scale-app ${mode} ${shape} wrote ${r.objects} objects, want ${SCALE * defaultObjects.length}`);
        runs[mode].ms.push(r.ms);
        runs[mode].rss.push(r.maxRssMiB);
      }
    }
    const label = shape === 'chart-each' ? 'one chart each ' : 'all in one chart';
    console.log(`  ${label}, ours: ${fmt(runs.ours.ms)}; peak RSS ${fmt(runs.ours.rss, 'MiB')}`);
    console.log(`  ${label}, bare: ${fmt(runs.bare.ms)}; peak RSS ${fmt(runs.bare.rss, 'MiB')}`);
    console.log(`  ${label}, ratio ours / bare (medians): ${(median(runs.ours.ms) / median(runs.bare.ms)).toFixed(2)}x  (target <= 1.30x, < 1024 MiB)`);
  }
}
rmSync(work, { recursive: true, force: true });
