// `npm run synth`: runs the precompiled app (lib/), rebuilding it first only when a source file is
// newer than the build, so a synth costs one node start-up and no type-check.
const { existsSync, readdirSync, statSync } = require('fs');
const { join } = require('path');

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
const written = require(entry).main();
process.stdout.write(`wrote ${written.files.length} files to ${process.env.CDK8S_OUTDIR ?? 'dist'}: ${written.files.join(', ')}\n`);
