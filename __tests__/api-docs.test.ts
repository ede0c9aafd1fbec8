// docs/API.md is generated from the TSDoc of the public API (typedoc.json): this fails when the
// committed file is not what a fresh generation writes, so the reference never lags the code.
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..');

test('docs/API.md is the API reference typedoc generates from src/ now', () => {
  const out = mkdtempSync(join(tmpdir(), 'api-docs-'));
  try {
    // The same command people run (`npm run docs`), written elsewhere.
    execFileSync('npm', ['run', '--silent', 'docs', '--', '--out', out, '--logLevel', 'Error'], { cwd: ROOT, stdio: 'pipe' });
    const fresh = readFileSync(join(out, 'API.md'), 'utf8');
    const committed = readFileSync(join(ROOT, 'docs', 'API.md'), 'utf8');
    if (committed !== fresh) {
      const [a, b] = [committed.split('\n'), fresh.split('\n')];
      let line = 0;
      while (a[line] === b[line]) line++;
      throw new Error(`docs/API.md differs from the API reference generated from the TSDoc in src/ (first at line ${line + 1}: `
        + `committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line])}). Fix: run \`npm run docs\` and commit docs/API.md.`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
