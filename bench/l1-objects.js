// @ts-check
'use strict';
// What the benchmarks' bare cdk8s apps share: the L1 class of each kind our instances make, and a
// synthesized object turned back into that class's props (quantities and int-or-string values as
// the L1 classes want them), so that a bare app makes exactly the objects ours makes.
const k8s = require('cdk8s-plus-28/lib/imports/k8s');

/** @type {Record<string, new (scope: import('constructs').Construct, id: string, props: any) => unknown>} */
const L1_CLASSES = {
  ConfigMap: k8s.KubeConfigMap,
  Pod: k8s.KubePod,
  Service: k8s.KubeService,
  ReplicationController: k8s.KubeReplicationController,
  NetworkPolicy: k8s.KubeNetworkPolicy,
  PodDisruptionBudget: k8s.KubePodDisruptionBudget,
};

/** @param {Record<string, string> | undefined} q */
const quantities = (q) => q && Object.fromEntries(Object.entries(q).map(([k, v]) => [k, k8s.Quantity.fromString(String(v))]));
/** @param {number | string} v */
const intOrString = (v) => (typeof v === 'number' ? k8s.IntOrString.fromNumber(v) : k8s.IntOrString.fromString(v));

/** @param {any} spec */
function podSpec(spec) {
  return {
    ...spec,
    containers: spec.containers.map((/** @type {any} */ c) => ({
      ...c,
      ...(c.resources ? { resources: { limits: quantities(c.resources.limits), requests: quantities(c.resources.requests) } } : {}),
    })),
  };
}

/**
 * The L1 class and props of a synthesized object.
 * @param {any} doc
 * @returns {[new (scope: import('constructs').Construct, id: string, props: any) => unknown, any]}
 */
function l1(doc) {
  const { apiVersion: _v, kind, ...props } = doc;
  const spec = props.spec;
  switch (kind) {
    case 'Pod': props.spec = podSpec(spec); break;
    case 'ReplicationController': props.spec = { ...spec, template: { ...spec.template, spec: podSpec(spec.template.spec) } }; break;
    case 'Service': {
      // The L1 props spell clusterIP as clusterIp.
      const { clusterIP, ...rest } = spec;
      props.spec = { ...rest, ...(clusterIP ? { clusterIp: clusterIP } : {}), ports: spec.ports.map((/** @type {any} */ p) => ({ ...p, targetPort: intOrString(p.targetPort) })) };
      break;
    }
    case 'PodDisruptionBudget': props.spec = { ...spec, maxUnavailable: intOrString(spec.maxUnavailable) }; break;
    case 'NetworkPolicy': {
      /** @param {any[]} rules */
      const withPorts = (rules) => rules.map((r) => ({ ...r, ports: r.ports.map((/** @type {any} */ p) => ({ ...p, port: intOrString(p.port) })) }));
      props.spec = { ...spec, ingress: withPorts(spec.ingress), egress: withPorts(spec.egress) };
      break;
    }
    default: break;
  }
  const cls = L1_CLASSES[kind];
  if (!cls) throw new Error(`bench: no L1 class for kind ${kind}`);
  return [cls, props];
}

module.exports = { l1 };
