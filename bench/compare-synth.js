#!/usr/bin/env node
'use strict';
// node bench/compare-synth.js DIR_A DIR_B [RUNS]: times `node scripts/synth.js` of two checkouts of this
// project (each with `npm ci` done), alternating A and B, each run a fresh node process writing into its
// own tmp/ folder, and prints the medians, minima and maxima and the ratio B / A. For before/after
// comparisons of a change (docs/benchmarks.md); not a test.
const { spawnSync } = require('child_process');
const { mkdirSync, rmSync } = require('fs');
const { join, resolve } = require('path');

const [dirA, dirB] = process.argv.slice(2, 4).map((d) => resolve(d));
const runs = Number(process.argv[4] || 15);
if (!dirA || !dirB) { console.error('usage: node bench/compare-synth.js DIR_A DIR_B [RUNS]'); process.exit(2); }

/** @param {string} dir */
function once(dir) {
  const out = join(dir, 'tmp', 'compare-synth');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'synth.js')], { cwd: dir, env: { ...process.env, CDK8S_OUTDIR: out }, stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${dir}: synth exited ${r.status}`);
  rmSync(out, { recursive: true, force: true });
  return ms;
}

/** @param {number[]} xs */
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
/** @param {number[]} xs */
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;

once(dirA); once(dirB); // warm the file cache; a stale lib/ is rebuilt here, not in a timed run
const a = [];
const b = [];
for (let i = 0; i < runs; i++) { a.push(once(dirA)); b.push(once(dirB)); }
console.log(`A ${dirA}: ${fmt(a)}`);
console.log(`B ${dirB}: ${fmt(b)}`);
console.log(`ratio B / A (medians): ${(median(b) / median(a)).toFixed(2)}x`);
