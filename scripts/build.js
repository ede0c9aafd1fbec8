// Compiles src/ and imports/ into lib/ and copies the shell assets beside the compiled modules.
const { execFileSync } = require('child_process');
const { copyFileSync, readdirSync, mkdirSync } = require('fs');
const { join } = require('path');

const root = join(__dirname, '..');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
for (const dir of ['src/pod-scripts', 'src/launch']) {
  mkdirSync(join(root, 'lib', dir), { recursive: true });
  for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith('.sh'))) {
    copyFileSync(join(root, dir, f), join(root, 'lib', dir, f));
  }
}
