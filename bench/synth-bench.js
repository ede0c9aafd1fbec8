// @ts-check
// `npm run bench`: times the default synth (node scripts/synth.js, what `npm run synth` runs) and a
// bare cdk8s app that emits the same objects through L1 classes, alternating, each as a fresh node
// process, and prints the medians and their ratio. Then it times `npm run synth` itself (npm's own
// start-up included). Not a test: numbers vary with the machine's load.
const { execFileSync, spawnSync } = require('child_process');
const { mkdirSync, readdirSync, rmSync, writeFileSync } = require('fs');
const { join } = require('path');
const { Yaml } = require('cdk8s');

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const work = join(ROOT, 'tmp', 'bench');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// Make sure lib/ is fresh, so no run pays for a rebuild, and prepare the bare app's input.
execFileSync(process.execPath, [join(ROOT, 'scripts', 'synth.js')], { cwd: ROOT, env: { ...process.env, CDK8S_OUTDIR: join(work, 'warm') } });
const docs = readdirSync(join(work, 'warm')).filter((f) => f.endsWith('.k8s.yaml')).sort().flatMap((f) => Yaml.load(join(work, 'warm', f)));
writeFileSync(join(work, 'objects.json'), JSON.stringify(docs));

/** @param {string} cmd @param {string[]} args @param {Record<string, string>} [env] @returns {number} wall ms */
function time(cmd, args, env = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
/** @param {number[]} xs */
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

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

/** @param {number[]} xs */
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;
console.log(`synth (node scripts/synth.js):    ${fmt(ours)}`);
console.log(`bare cdk8s app, same objects:     ${fmt(bare)}`);
console.log(`ratio synth / bare (medians):     ${(median(ours) / median(bare)).toFixed(2)}x  (target <= 1.30x)`);
console.log(`npm run synth (with npm start-up): ${fmt(npmRuns)}  (target < 1000 ms)`);
rmSync(work, { recursive: true, force: true });
