// @ts-check
'use strict';
// A container's environment as the kubelet builds it at container start: PATH and HOSTNAME, the
// namespace's Service env vars, then `env` in order: values with $(VAR) references expanded, the
// downward API (fieldRef), and keys of ConfigMaps and Secrets.

const { Unsupported } = require('../util');
const { objectData } = require('../store');

/** @typedef {import('../pod').Pod} Pod */

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The downward API: what `valueFrom.fieldRef` can name.
 * @param {Pod} pod
 * @param {string} fieldPath
 * @returns {string}
 */
function fieldRef(pod, fieldPath) {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]] || '';
  switch (fieldPath) {
    case 'status.podIP': return pod.ip;
    case 'status.podIPs': return pod.ip;
    case 'status.hostIP': return pod.hostIP || '';
    case 'metadata.name': return pod.name;
    case 'metadata.namespace': return pod.ns;
    case 'metadata.uid': return pod.uid;
    case 'spec.nodeName': return pod.nodeName || '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName || 'default';
    default: throw new Unsupported(`env fieldRef ${fieldPath}`);
  }
}

/**
 * `valueFrom.configMapKeyRef` / `secretKeyRef`.
 * @param {import('../types').StoreView} store
 * @param {Pod} pod
 * @param {'ConfigMap' | 'Secret'} kind
 * @param {{ name?: string, key: string, optional?: boolean }} ref
 * @returns {string | undefined} undefined: an optional reference to nothing (the variable is not set)
 */
function keyRef(store, pod, kind, ref) {
  const obj = store.get(kind, pod.ns, String(ref.name));
  if (!obj) { if (ref.optional) return undefined; throw new Error(`${kind} "${ref.name}" not found`); }
  const data = objectData(obj);
  if (!(ref.key in data)) { if (ref.optional) return undefined; throw new Error(`${kind} ${ref.name} has no key ${ref.key}`); }
  return data[ref.key].toString();
}

/**
 * @param {import('../pod').Container} c
 * @param {import('../types').StoreView} store
 * @param {Record<string, string>} serviceEnv the namespace's Service env vars
 * @returns {{ env: Record<string, string>, expand: (s: unknown) => string }} the environment, and
 * the $(VAR) expansion that `command` and `args` get too
 */
function containerEnv(c, store, serviceEnv) {
  const pod = c.pod;
  /** @type {Record<string, string>} */
  const env = { PATH: BASE_PATH, HOSTNAME: pod.hostname, HOME: '/root', ...serviceEnv };
  if (c.spec.envFrom) throw new Unsupported(`container ${c.name}: envFrom`);
  /** @param {unknown} s */
  const expand = (s) => String(s).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, v) => {
    if (all === '$$') return '$';
    return v in env ? env[v] : all;
  });
  for (const e of c.spec.env || []) {
    let v;
    if (e.value !== undefined) v = expand(e.value);
    else if (e.valueFrom && e.valueFrom.fieldRef) v = fieldRef(pod, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom && e.valueFrom.configMapKeyRef) v = keyRef(store, pod, 'ConfigMap', e.valueFrom.configMapKeyRef);
    else if (e.valueFrom && e.valueFrom.secretKeyRef) v = keyRef(store, pod, 'Secret', e.valueFrom.secretKeyRef);
    else if (e.valueFrom) throw new Unsupported(`env ${e.name}: valueFrom ${Object.keys(e.valueFrom)}`);
    else v = '';
    if (v !== undefined) env[e.name] = v;
  }
  return { env, expand };
}

module.exports = { containerEnv };
