// @ts-check
'use strict';
// How names resolve in a pod, as the kubelet and CoreDNS arrange it: the pod's /etc/hosts names
// the pod itself (and its hostAliases); its resolv.conf sends every other lookup to the name
// server (network/dns.js) with the cluster's search path; and the name server's records, rendered
// here from the store:
//   <svc>.<ns>.svc.cluster.local            → the ClusterIP of a Service;
//                                            → every endpoint's IP of a headless one (clusterIP None)
//   <hostname>.<svc>.<ns>.svc.cluster.local → a pod with spec.hostname and spec.subdomain = <svc>,
//                                              while it is an endpoint of that headless Service
// Endpoints are the pods services.js counts: ready ones, or all running ones with
// publishNotReadyAddresses. `<svc>`, `<svc>.<ns>` and `<svc>.<ns>.svc` resolve through the search
// path (ndots:5), as on a cluster.

const { Unsupported } = require('../util');
const { NODE_IP } = require('../addresses');
const { endpoints } = require('./services');

/** The cluster's DNS domain. */
const CLUSTER_DOMAIN = 'cluster.local';
/** The name server's address: the node's, on the pod bridge (dnsmasq listens there, network/dns.js). */
const NAME_SERVER_IP = NODE_IP;

/** @typedef {import('../pod').Pod} Pod */

/**
 * @param {Pod} pod
 * @returns {string} the pod's /etc/hosts, as the kubelet writes it: localhost, the pod's own name
 * (its FQDN first when it has a subdomain), and its hostAliases
 */
function hostsFile(pod) {
  const own = pod.spec.subdomain
    ? `${pod.ip}\t${pod.hostname}.${pod.spec.subdomain}.${pod.ns}.svc.${CLUSTER_DOMAIN}\t${pod.hostname}`
    : `${pod.ip}\t${pod.hostname}`;
  const aliases = (pod.spec.hostAliases || []).map((a) => `${a.ip}\t${(a.hostnames || []).join('\t')}`);
  return [
    '# Kubernetes-managed hosts file (k8e).',
    '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet', 'fe00::0\tip6-mcastprefix', 'fe00::1\tip6-allnodes', 'fe00::2\tip6-allrouters',
    own,
    ...(aliases.length ? ['', '# Entries added by HostAliases.', ...aliases] : []),
    '',
  ].join('\n');
}

/** @param {Pod} pod @returns {string} the pod's /etc/resolv.conf (dnsPolicy ClusterFirst) */
function resolvConf(pod) {
  const policy = pod.spec.dnsPolicy || 'ClusterFirst';
  if (policy !== 'ClusterFirst') throw new Unsupported(`pod ${pod.name}: dnsPolicy ${policy} (only ClusterFirst is emulated)`);
  if (pod.spec.dnsConfig) throw new Unsupported(`pod ${pod.name}: dnsConfig`);
  return `nameserver ${NAME_SERVER_IP}\nsearch ${pod.ns}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\noptions ndots:5\n`;
}

/**
 * The name server's records, in hosts-file form (one address and one name a line), sorted so
 * that the text changes only when a record does.
 * @param {import('../types').StoreView} store
 * @returns {string}
 */
function dnsRecords(store) {
  /** @type {Set<string>} */
  const lines = new Set();
  for (const svc of store.list('Service', null)) {
    const fqdn = `${svc.name}.${svc.ns}.svc.${CLUSTER_DOMAIN}`;
    if (svc.live.clusterIP !== 'None') { lines.add(`${svc.live.clusterIP} ${fqdn}`); continue; }
    for (const pod of endpoints(store, svc)) {
      lines.add(`${pod.ip} ${fqdn}`);
      if (pod.spec.hostname && pod.spec.subdomain === svc.name) lines.add(`${pod.ip} ${pod.hostname}.${fqdn}`);
    }
  }
  const sorted = [...lines].sort();
  return sorted.length ? `${sorted.join('\n')}\n` : '';
}

/**
 * The name server as NetworkPolicies see it: a kube-dns pod of kube-system (CoreDNS's labels and
 * ports), so that a policy's DNS egress rule admits it as it would on a cluster.
 * @returns {import('./policy').Endpoint}
 */
function nameServerEndpoint() {
  return {
    ip: NAME_SERVER_IP, ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' },
    ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }],
  };
}

module.exports = { hostsFile, resolvConf, dnsRecords, nameServerEndpoint, NAME_SERVER_IP, CLUSTER_DOMAIN };
