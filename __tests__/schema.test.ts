// Every synthesized object validates against the Kubernetes schema twice: with kubernetes-models
// (Kubernetes 1.28 types), and strictly against the official 1.28 and 1.36 API definitions with
// unknown fields rejected, which catches misspelled fields that kubernetes-models lets through.
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { Duration, Testing, Yaml } from 'cdk8s';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, ReplicationController, Service } from 'kubernetes-models/v1';
import { RedisSentinel } from '../src';

const SCHEMA_DIR = join(__dirname, '..', '..', 'shared', 'k8s-schema');
const DIST = join(__dirname, '..', 'dist');

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ConfigMap, Pod, ReplicationController, Service, NetworkPolicy, PodDisruptionBudget,
};

/** A validator per kind for one API version's definitions, with additionalProperties: false. */
function strictValidators(file: string): (doc: any) => ValidateFunction {
  const defs = JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')).definitions as Record<string, any>;
  for (const def of Object.values(defs)) {
    if (def.type === 'object' && def.properties && def.additionalProperties === undefined) def.additionalProperties = false;
  }
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'k8s', definitions: defs });
  const byKind = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      byKind.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, name);
    }
  }
  return (doc) => {
    const name = byKind.get(`${doc.apiVersion}/${doc.kind}`);
    if (!name) throw new Error(`${file} has no definition for ${doc.apiVersion}/${doc.kind}`);
    return ajv.getSchema(`k8s#/definitions/${name}`)!;
  };
}

const configurations: Array<[string, any[]]> = [
  ['dist/', readdirSync(DIST).filter((f) => f.endsWith('.k8s.yaml')).sort().flatMap((f) => Yaml.load(join(DIST, f)))],
  ['a non-default configuration', (() => {
    const chart = Testing.chart();
    new RedisSentinel(chart, 'Cache', { name: 'cache', namespace: 'apps', redisReplicas: 5, sentinelReplicas: 5, quorum: 3, downAfter: Duration.seconds(60), failoverTimeout: Duration.seconds(180) });
    return Testing.synth(chart);
  })()],
];

describe.each(configurations)('objects of %s', (_what, docs) => {
  test('there are objects to check', () => {
    expect(docs.map((d) => d.kind)).toEqual([
      'ConfigMap', 'NetworkPolicy', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Pod', 'Service', 'ReplicationController', 'ReplicationController',
    ]);
  });

  test.each(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d]))('%s validates with kubernetes-models', (_name, doc) => {
    expect(() => new MODELS[doc.kind](doc).validate()).not.toThrow();
  });

  for (const file of ['v1.28.0-definitions.json', 'v1.36.0-definitions.json']) {
    const validatorFor = strictValidators(file);
    test.each(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d]))(`%s validates strictly against ${file}`, (_name, doc) => {
      const validate = validatorFor(doc);
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });
  }
});

test('the strict validation does reject an unknown field', () => {
  const validatorFor = strictValidators('v1.28.0-definitions.json');
  const doc = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i', volumeMount: [] }] } };
  const validate = validatorFor(doc);
  expect(validate(doc)).toBe(false);
  expect(JSON.stringify(validate.errors)).toContain('volumeMount');
});
