// Every synthesized object validates against the Kubernetes schema twice: with kubernetes-models
// (Kubernetes 1.28 types), and strictly against the official 1.28 and 1.36 API definitions with
// unknown fields rejected, which catches misspelled fields that kubernetes-models lets through.
import { readdirSync } from 'fs';
import { join } from 'path';
import { Duration, Testing, Yaml } from 'cdk8s';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, ReplicationController, Service } from 'kubernetes-models/v1';
import { RedisSentinel } from '../src';
import { SCHEMA_FILES, strictValidators } from './strict-schema';

const DIST = join(__dirname, '..', 'dist');

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ConfigMap, Pod, ReplicationController, Service, NetworkPolicy, PodDisruptionBudget,
};

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
      'ConfigMap', 'NetworkPolicy', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Pod', 'Service', 'Service', 'ReplicationController', 'ReplicationController',
    ]);
  });

  test.each(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d]))('%s validates with kubernetes-models', (_name, doc) => {
    expect(() => new MODELS[doc.kind](doc).validate()).not.toThrow();
  });

  for (const file of SCHEMA_FILES) {
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
