// @ts-check
'use strict';
// One run of the synth-at-scale benchmark (bench/synth-bench.js starts it as a fresh process):
//   node bench/scale-app.js ours|bare chart-each|one-chart COUNT OUTDIR [OBJECTS_JSON]
// ours: COUNT RedisSentinel instances (compiled lib/); bare: the same objects, read from
// OBJECTS_JSON (an earlier `ours` run's output), made through the L1 classes directly in their charts.
// Prints one JSON line: the milliseconds from the first construct to the end of app.synth(), the
// objects written, and the process's peak RSS.
const { readdirSync, readFileSync, rmSync } = require('fs');
const { join } = require('path');
const { App, Chart } = require('cdk8s');

const [mode, shape, countText, outdir, objectsFile] = process.argv.slice(2);
const count = Number(countText);
rmSync(outdir, { recursive: true, force: true });

let build;
if (mode === 'ours') {
  // The compiled library (npm run build), typed from its sources: lib/ is absent on a fresh clone
  // until the build, and the lint runs before it.
  const compiled = join(__dirname, '..', 'lib', 'src');
  const { RedisSentinel } = /** @type {typeof import('../src')} */ (require(compiled));
  build = () => {
    const app = new App({ outdir });
    const one = shape === 'one-chart' ? new Chart(app, 'all') : undefined;
    for (let i = 0; i < count; i++) new RedisSentinel(one ?? new Chart(app, `c${i}`), `R${i}`, { name: `r${i}` });
    return app;
  };
} else {
  const { l1 } = require('./l1-objects');
  // Every instance's ConfigMap holds the same script texts. A bare app written by hand would share one
  // constant for each, as our constructs do; JSON.parse gives each copy its own string, so intern
  // them, or the bare app pays for 1000 copies in memory and garbage collection.
  /** @type {Map<string, string>} */
  const strings = new Map();
  /** @type {any[]} */
  const docs = JSON.parse(readFileSync(String(objectsFile), 'utf8'), (_k, v) => {
    if (typeof v !== 'string' || v.length < 256) return v;
    const seen = strings.get(v);
    if (seen !== undefined) return seen;
    strings.set(v, v);
    return v;
  });
  build = () => {
    const app = new App({ outdir });
    const one = shape === 'one-chart' ? new Chart(app, 'all') : undefined;
    /** @type {Map<string, any>} */
    const charts = new Map();
    docs.forEach((doc, i) => {
      const instance = doc.metadata.labels['app.kubernetes.io/instance'];
      let chart = one ?? charts.get(instance);
      if (!chart) { chart = new Chart(app, `c${instance.slice(1)}`); charts.set(instance, chart); }
      const [Class, props] = l1(doc);
      new Class(chart, `o${i}`, props);
    });
    return app;
  };
}

const start = process.hrtime.bigint();
const app = build();
const built = process.hrtime.bigint();
app.synth();
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const constructMs = Math.round(Number(built - start) / 1e6);
const files = readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml'));
// Documents per file: cdk8s separates them with a line '---'.
const objects = files.reduce((n, f) => n + readFileSync(join(outdir, f), 'utf8').split(/^---$/m).length, 0);
process.stdout.write(`${JSON.stringify({ mode, shape, count, ms: Math.round(ms), constructMs, files: files.length, objects, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
