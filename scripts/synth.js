// `npm run synth` (and `cdk8s synth`, see cdk8s.yaml): runs the precompiled app (lib/), rebuilding it
// first only when a source file is newer than the build, so a synth costs one node start-up and no
// type-check. The repository's own dist/ is written from scratch (its committed files are exactly one
// synth); any other output folder ($CDK8S_OUTDIR, `cdk8s synth -o DIR`) is only written into.
const { existsSync, readdirSync, rmSync, statSync } = require('fs');
const { join, resolve } = require('path');

const root = join(__dirname, '..');
const entry = join(root, 'lib', 'src', 'main.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (!existsSync(entry) || newest(join(root, 'src')) > statSync(entry).mtimeMs || newest(join(root, 'imports')) > statSync(entry).mtimeMs) {
  require('./build.js');
}
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
if (resolve(outdir) === join(root, 'dist')) rmSync(join(root, 'dist'), { recursive: true, force: true });
const { app, launch, statefulSet } = require(entry).main(outdir);
process.stdout.write(`synthesized ${app.outdir} and ${statefulSet.outdir}; launch files: ${launch.flatMap((l) => l.files).join(', ')}\n`);
