// @ts-check
'use strict';
// NetworkPolicy (networking.k8s.io/v1) as a CNI plugin enforces it, in nft table k8epol inside each
// pod's network namespace. A pod that some policy of its namespace selects for a direction is
// isolated in that direction: it gets only what the union of those policies' rules allows, plus
// replies of allowed connections (conntrack), loopback, and, inbound, its own node (the kubelet's
// probes: Kubernetes never blocks those). Peers are pods by podSelector and namespaceSelector (both
// in one peer: AND), and ipBlock CIDRs; ports by number, range (endPort) or name, with protocol.
// Packets are dropped, not refused, as CNI plugins do, and outbound ones so that the sender does not
// notice (drop.js). The output chain runs after kube-proxy's DNAT (services.js, priority -100), so
// egress rules see the pod behind a ClusterIP, as on a node.
// The tables are rendered from the store at each network sync: any pod, label or policy change.

const { Unsupported, labelSelectorMatches } = require('../util');
const { NODE_IP } = require('../addresses');
const { DISCARD_OUT } = require('./drop');

/** @typedef {import('../types').Labels} Labels */
/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../types').KubeObject} KubeObject */
/** @typedef {import('kubernetes-models/networking.k8s.io/v1').INetworkPolicySpec} PolicySpec */
/** @typedef {import('kubernetes-models/networking.k8s.io/v1').INetworkPolicyPeer} Peer */
/** @typedef {import('kubernetes-models/networking.k8s.io/v1').INetworkPolicyPort} PolicyPort */
/** @typedef {import('kubernetes-models/networking.k8s.io/v1').IIPBlock} IPBlock */
/** @typedef {'Ingress' | 'Egress'} Direction */

/**
 * What a policy peer can select: a pod, or a cluster add-on that runs outside any pod here but
 * counts as one for policies (the name server counts as a kube-dns pod of kube-system).
 * @typedef {{ ip: string, ns: string, labels: Labels, ports: Array<{ name?: string, containerPort: number, protocol?: string }> }} Endpoint
 */

const TABLE = 'k8epol';

/** The labels every namespace has, though the emulator keeps no Namespace objects. @param {string} ns @returns {Labels} */
function namespaceLabels(ns) { return { 'kubernetes.io/metadata.name': ns }; }

/** @param {import('../pod').Pod} pod @returns {Endpoint} */
function podEndpoint(pod) {
  return { ip: pod.ip, ns: pod.ns, labels: pod.labels, ports: (pod.spec.containers || []).flatMap((c) => c.ports || []) };
}

/** @param {KubeObject} doc @returns {PolicySpec} */
function policySpec(doc) { return /** @type {PolicySpec} */ (doc.spec || {}); }

/** The directions a policy isolates: policyTypes, or Ingress plus Egress when it has egress rules. @param {PolicySpec} spec @returns {Direction[]} */
function directions(spec) {
  return spec.policyTypes || (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Refuses what the emulator does not enforce, and what the API server would reject.
 * @param {KubeObject} doc
 */
function checkPolicy(doc) {
  const name = doc.metadata.name;
  const spec = policySpec(doc);
  /** @param {string} what @param {object} o @param {string[]} known */
  const only = (what, o, known) => {
    const extra = Object.keys(o).filter((k) => !known.includes(k));
    if (extra.length) throw new Unsupported(`NetworkPolicy ${name}: ${what} field(s) ${extra.join(', ')}`);
  };
  only('spec', spec, ['podSelector', 'policyTypes', 'ingress', 'egress']);
  if (!spec.podSelector) throw new Error(`NetworkPolicy ${name}: spec.podSelector is required ({} selects every pod of the namespace)`);
  for (const t of spec.policyTypes || []) if (t !== 'Ingress' && t !== 'Egress') throw new Error(`NetworkPolicy ${name}: policyTypes ${t}: use Ingress or Egress`);
  /** @param {import('@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector').ILabelSelector | undefined} sel */
  const checkSelector = (sel) => { if (sel) labelSelectorMatches(sel, {}); };
  checkSelector(spec.podSelector);
  for (const [dir, rules] of /** @type {const} */ ([['ingress', spec.ingress], ['egress', spec.egress]])) {
    for (const rule of rules || []) {
      const peersKey = dir === 'ingress' ? 'from' : 'to';
      only(`${dir} rule`, rule, [peersKey, 'ports']);
      for (const peer of /** @type {Peer[]} */ (/** @type {any} */ (rule)[peersKey] || [])) {
        only(`${dir} peer`, peer, ['podSelector', 'namespaceSelector', 'ipBlock']);
        if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) throw new Error(`NetworkPolicy ${name}: a peer with ipBlock may have no selector`);
        if (!peer.ipBlock && !peer.podSelector && !peer.namespaceSelector) throw new Error(`NetworkPolicy ${name}: a ${dir} peer needs podSelector, namespaceSelector or ipBlock`);
        if (peer.ipBlock) for (const c of [peer.ipBlock.cidr, ...(peer.ipBlock.except || [])]) {
          if (!IPV4_CIDR.test(c)) throw new Unsupported(`NetworkPolicy ${name}: ipBlock ${c} (IPv4 CIDRs only: pods have IPv4 addresses only)`);
        }
        checkSelector(peer.podSelector);
        checkSelector(peer.namespaceSelector);
      }
      for (const p of rule.ports || []) {
        only(`${dir} port`, p, ['port', 'endPort', 'protocol']);
        if (p.protocol && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) throw new Error(`NetworkPolicy ${name}: protocol ${p.protocol}: use TCP, UDP or SCTP`);
        if (p.endPort !== undefined && typeof p.port !== 'number') throw new Error(`NetworkPolicy ${name}: endPort ${p.endPort} needs a numeric port`);
      }
    }
  }
}

/**
 * Whether a peer's selectors pick an endpoint. podSelector alone: the policy's namespace;
 * namespaceSelector alone: every pod of the namespaces it selects; both: the pods that match in
 * those namespaces.
 * @param {string} policyNs
 * @param {Peer} peer
 * @param {Endpoint} ep
 */
function peerSelects(policyNs, peer, ep) {
  const inNs = peer.namespaceSelector ? labelSelectorMatches(peer.namespaceSelector, namespaceLabels(ep.ns)) : ep.ns === policyNs;
  return inNs && (!peer.podSelector || labelSelectorMatches(peer.podSelector, ep.labels));
}

/**
 * nft matches for a rule's ports, toward a destination (whose named ports they may name).
 * @param {PolicyPort[] | undefined} ports
 * @param {Endpoint | null} dest null: unknown (an ipBlock), so named ports match nothing
 * @returns {string[]} one match per protocol ('' = every port of every protocol); empty: nothing matches
 */
function portMatches(ports, dest) {
  if (!ports || !ports.length) return [''];
  /** @type {Map<string, string[]>} protocol → port numbers and ranges; an empty list: every port */
  const byProto = new Map();
  for (const p of ports) {
    const proto = (p.protocol || 'TCP').toLowerCase();
    const list = byProto.get(proto) || [];
    byProto.set(proto, list);
    if (p.port === undefined) { list.push('*'); continue; }
    let number = typeof p.port === 'number' || /^\d+$/.test(String(p.port)) ? Number(p.port) : undefined;
    if (number === undefined && dest) {
      const named = dest.ports.find((cp) => cp.name === p.port && (cp.protocol || 'TCP').toLowerCase() === proto);
      number = named && named.containerPort;
    }
    if (number === undefined) { if (!list.length) byProto.delete(proto); continue; }
    list.push(p.endPort !== undefined ? `${number}-${p.endPort}` : String(number));
  }
  return [...byProto].map(([proto, list]) => (list.includes('*') ? `meta l4proto ${proto}` : `meta l4proto ${proto} th dport { ${[...new Set(list)].join(', ')} }`));
}

/** @param {'saddr' | 'daddr'} field @param {IPBlock} block */
function cidrMatch(field, block) {
  const except = block.except && block.except.length ? ` ip ${field} != { ${block.except.join(', ')} }` : '';
  return `ip ${field} ${block.cidr}${except}`;
}

/**
 * The accept rules of one policy rule for the pod `self`.
 * @param {Direction} dir
 * @param {Endpoint} self
 * @param {string} policyNs
 * @param {{ from?: Peer[], to?: Peer[], ports?: PolicyPort[] }} rule
 * @param {Endpoint[]} endpoints every pod (and stand-in) of the cluster
 * @returns {string[]}
 */
function ruleAccepts(dir, self, policyNs, rule, endpoints) {
  const field = dir === 'Ingress' ? 'saddr' : 'daddr';
  const peers = (dir === 'Ingress' ? rule.from : rule.to) || [];
  /** The far ends: an address match, and the destination whose named ports the rule's ports name. @type {Array<{ ip?: string, match?: string, dest: Endpoint | null }>} */
  const ends = [];
  if (!peers.length) ends.push({ match: '', dest: dir === 'Ingress' ? self : null });
  for (const peer of peers) {
    if (peer.ipBlock) { ends.push({ match: cidrMatch(field, peer.ipBlock), dest: dir === 'Ingress' ? self : null }); continue; }
    for (const ep of endpoints) if (peerSelects(policyNs, peer, ep)) ends.push({ ip: ep.ip, dest: dir === 'Ingress' ? self : ep });
  }
  /** port match → the addresses (one set) and other address matches that get it @type {Map<string, { ips: Set<string>, matches: Set<string> }>} */
  const byPorts = new Map();
  for (const end of ends) {
    for (const ports of portMatches(rule.ports, end.dest)) {
      const entry = byPorts.get(ports) || { ips: new Set(), matches: new Set() };
      byPorts.set(ports, entry);
      if (end.ip) entry.ips.add(end.ip); else entry.matches.add(end.match || '');
    }
  }
  /** @type {string[]} */
  const out = [];
  for (const [ports, { ips, matches }] of byPorts) {
    if (ips.size) out.push(`ip ${field} { ${[...ips].join(', ')} } ${ports} accept`);
    for (const m of matches) out.push(`${m} ${ports} accept`);
  }
  return out.map((r) => r.replace(/\s+/g, ' ').trim());
}

/**
 * The k8epol table of every pod.
 * @param {import('../types').StoreView} store
 * @param {() => Endpoint[]} addOns endpoints that are not pods but count as pods for policies
 * @returns {import('../types').PodTable}
 */
function policyTable(store, addOns) {
  return {
    name: TABLE,
    render(pod) {
      const self = podEndpoint(pod);
      const policies = store.list('NetworkPolicy', pod.ns).filter((p) => labelSelectorMatches(policySpec(p.manifest).podSelector || {}, pod.labels));
      if (!policies.length) return null;
      const endpoints = [...store.pods().filter((p) => !p.gone).map(podEndpoint), ...addOns()];
      /** @type {string[]} */
      const chains = [];
      // Outbound, a denied packet is discarded without the sender noticing, as outside the pod (drop.js).
      for (const [dir, head, iface, always, deny] of /** @type {const} */ ([
        ['Ingress', 'type filter hook input priority 0', 'iifname', `ip saddr ${NODE_IP} accept`, 'drop'],
        ['Egress', 'type route hook output priority 0', 'oifname', null, DISCARD_OUT],
      ])) {
        const isolating = policies.filter((p) => directions(policySpec(p.manifest)).includes(dir));
        if (!isolating.length) continue;
        const rules = isolating.flatMap((p) => {
          const spec = policySpec(p.manifest);
          return (dir === 'Ingress' ? spec.ingress || [] : spec.egress || []).flatMap((r) => ruleAccepts(dir, self, p.ns, r, endpoints));
        });
        chains.push(`  chain ${dir.toLowerCase()} {`, `    ${head}; policy accept;`,
          `    ${iface} "lo" accept`, '    ct state established,related accept',
          ...(always ? [`    ${always}`] : []), ...rules.map((r) => `    ${r}`), `    ${deny}`, '  }');
      }
      return chains.length ? `${chains.join('\n')}\n` : null;
    },
  };
}

/** NetworkPolicy: checked on create and on every apply; the tables follow at the next sync. @type {import('../types').KindHandler} */
const policyKind = {
  kind: 'NetworkPolicy',
  apiVersion: 'networking.k8s.io/v1',
  resource: 'networkpolicies',
  shortNames: ['netpol'],
  create: (obj) => checkPolicy(obj.manifest),
  admit: (_obj, doc) => checkPolicy(doc),
};

module.exports = { policyTable, policyKind };
