// @ts-check
'use strict';
// Services as kube-proxy and the kubelet see them: a Service's ready endpoints, the nft DNAT table
// that sends each ClusterIP:port to one of them, and the Service env vars of a namespace. Pure
// functions of a read-only store view.

const { matchLabels } = require('../util');
const { resolvePort } = require('../pod');

/** @typedef {import('../types').StoreView} StoreView */
/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../pod').Pod} Pod */

/** @param {StoredObject} svc @returns {import('kubernetes-models/v1').IServiceSpec} */
function serviceSpec(svc) { return /** @type {any} */ (svc.manifest.spec) || {}; }

/** Services that have a ClusterIP (headless ones have none). @param {StoreView} store @param {string | null} ns */
function clusterIPServices(store, ns) {
  return store.list('Service', ns).filter((svc) => svc.live.clusterIP !== 'None');
}

/**
 * The Service's endpoints, as the endpoint controllers list them for kube-proxy and the name
 * server: the pods of its namespace that match its selector and are ready (so not terminating);
 * with publishNotReadyAddresses, every running one, terminating ones too until they are gone.
 * @param {StoreView} store
 * @param {StoredObject} svc
 */
function endpoints(store, svc) {
  const spec = serviceSpec(svc);
  if (!spec.selector) return [];
  const notReadyToo = !!spec.publishNotReadyAddresses;
  return store.pods().filter((p) => p.ns === svc.ns && !p.gone && p.phase === 'Running' && (notReadyToo || p.isReady) && matchLabels(spec.selector, p.labels));
}

/**
 * kube-proxy's rules for one pod (table k8e): in the pod's nat output hook, each ClusterIP:port
 * jumps at random to one ready endpoint's chain, which DNATs to its targetPort; a port with no
 * endpoints is refused.
 * @param {StoreView} store
 * @returns {import('../types').PodTable}
 */
function serviceTable(store) {
  return {
    name: 'k8e',
    render() {
      /** @type {string[]} */
      const chains = [];
      /** @type {string[]} */
      const natRules = [];
      /** @type {string[]} */
      const rejectRules = [];
      let n = 0;
      for (const svc of clusterIPServices(store, null)) {
        const eps = endpoints(store, svc);
        for (const port of serviceSpec(svc).ports || []) {
          const proto = (port.protocol || 'TCP').toLowerCase();
          if (!eps.length) { rejectRules.push(`ip daddr ${svc.live.clusterIP} ${proto} dport ${port.port} reject${proto === 'tcp' ? ' with tcp reset' : ''}`); continue; }
          const targets = eps.map((p) => ({ ip: p.ip, port: resolvePort(p, port.targetPort !== undefined ? port.targetPort : port.port) }));
          const names = targets.map((t) => {
            const name = `ep${n++}`;
            chains.push(`  chain ${name} {\n    meta l4proto ${proto} dnat to ${t.ip}:${t.port}\n  }`);
            return name;
          });
          natRules.push(`ip daddr ${svc.live.clusterIP} ${proto} dport ${port.port} numgen random mod ${names.length} vmap { ${names.map((x, i) => `${i} : jump ${x}`).join(', ')} }`);
        }
      }
      return [...chains,
        '  chain out {', '    type nat hook output priority -100;', ...natRules.map((r) => `    ${r}`), '  }',
        '  chain filt {', '    type filter hook output priority 0;', ...rejectRules.map((r) => `    ${r}`), '  }',
        ''].join('\n');
    },
  };
}

/**
 * The Service env vars of a namespace, as the kubelet sets them at container start.
 * @param {StoreView} store
 * @param {string} ns
 */
function serviceEnv(store, ns) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const svc of clusterIPServices(store, ns)) {
    const base = svc.name.toUpperCase().replace(/-/g, '_');
    const ports = serviceSpec(svc).ports || [];
    if (!ports.length) continue;
    const ip = String(svc.live.clusterIP);
    env[`${base}_SERVICE_HOST`] = ip;
    env[`${base}_SERVICE_PORT`] = String(ports[0].port);
    for (const p of ports) if (p.name) env[`${base}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
    const proto = (ports[0].protocol || 'TCP');
    env[`${base}_PORT`] = `${proto.toLowerCase()}://${ip}:${ports[0].port}`;
    for (const p of ports) {
      const pr = (p.protocol || 'TCP');
      const k = `${base}_PORT_${p.port}_${pr}`;
      env[k] = `${pr.toLowerCase()}://${ip}:${p.port}`;
      env[`${k}_PROTO`] = pr.toLowerCase();
      env[`${k}_PORT`] = String(p.port);
      env[`${k}_ADDR`] = ip;
    }
  }
  return env;
}

module.exports = { serviceSpec, clusterIPServices, endpoints, serviceTable, serviceEnv };
