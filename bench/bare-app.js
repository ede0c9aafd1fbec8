// @ts-check
// The baseline of `npm run bench`: a bare cdk8s app that emits the same objects as our synth
// through the L1 classes directly (no settings, no validation, no scripts), synthesized by cdk8s'
// own App.synth(). The objects' specs come from a JSON file the benchmark prepares beforehand.
const { readFileSync } = require('fs');
const { App, Chart } = require('cdk8s');
const k8s = require('cdk8s-plus-28/lib/imports/k8s');

const [objectsFile, outdir] = process.argv.slice(2);
/** @type {Record<string, new (scope: import('constructs').Construct, id: string, props: any) => unknown>} */
const CLASSES = {
  ConfigMap: k8s.KubeConfigMap,
  Pod: k8s.KubePod,
  Service: k8s.KubeService,
  ReplicationController: k8s.KubeReplicationController,
};
const app = new App({ outdir });
const chart = new Chart(app, 'bare');
for (const [i, doc] of JSON.parse(readFileSync(objectsFile, 'utf8')).entries()) {
  const { apiVersion: _v, kind, ...props } = doc;
  new CLASSES[kind](chart, `o${i}`, props);
}
app.synth();
