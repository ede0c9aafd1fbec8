// @ts-check
'use strict';
// How names resolve in a pod: Service names through the pod's own /etc/hosts, and a resolv.conf
// whose server does not answer, so any other name fails fast. (A DNS server for Services and
// headless-Service pod records would replace both here.)

const { clusterIPServices } = require('./services');

/**
 * @param {import('../types').StoreView} store
 * @param {import('../pod').Pod} pod
 * @returns {string} the pod's /etc/hosts: itself, and every Service with a ClusterIP under
 * `<svc>` (same namespace), `<svc>.<ns>`, `<svc>.<ns>.svc` and `<svc>.<ns>.svc.cluster.local`
 */
function hostsFile(store, pod) {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${pod.ip}\t${pod.name}`];
  for (const svc of clusterIPServices(store, null)) {
    const names = [`${svc.name}.${svc.ns}`, `${svc.name}.${svc.ns}.svc`, `${svc.name}.${svc.ns}.svc.cluster.local`];
    if (svc.ns === pod.ns) names.unshift(svc.name);
    lines.push(`${svc.live.clusterIP}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The pods' name server: an address no route leads to (TEST-NET-1), so that a lookup fails at once. */
const NAME_SERVER_IP = '192.0.2.53';

/** @param {import('../pod').Pod} pod @returns {string} the pod's /etc/resolv.conf */
function resolvConf(pod) {
  return `# k8e: no DNS server; names resolve through /etc/hosts only\nnameserver ${NAME_SERVER_IP}\nsearch ${pod.ns}.svc.cluster.local svc.cluster.local cluster.local\noptions attempts:1 timeout:1\n`;
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

module.exports = { hostsFile, resolvConf, nameServerEndpoint };
