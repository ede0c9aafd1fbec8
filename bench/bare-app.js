// @ts-check
// The baseline of `npm run bench`: a bare cdk8s app that emits the same objects as our synth
// through the L1 classes directly (no settings, no validation, no scripts), synthesized by cdk8s'
// own App.synth(). The objects' specs come from a JSON file the benchmark prepares beforehand.
const { readFileSync } = require('fs');
const { App, Chart } = require('cdk8s');
const { l1 } = require('./l1-objects');

const [objectsFile, outdir] = process.argv.slice(2);
const app = new App({ outdir });
const chart = new Chart(app, 'redis-sentinel');
for (const [i, doc] of JSON.parse(readFileSync(objectsFile, 'utf8')).entries()) {
  const [Class, props] = l1(doc);
  new Class(chart, `o${i}`, props);
}
app.synth();
