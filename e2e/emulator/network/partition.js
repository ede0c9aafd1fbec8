// @ts-check
'use strict';
// The tests' network faults (table k8epart), which drop established connections too (what leaves
// a pod is discarded silently, drop.js):
// - a cut pod drops every packet in and out except on loopback, as if its node lost the network;
// - a split puts a group of pods on one side and every other pod (those created later too) on the
//   other: traffic within each side flows, traffic across is dropped both ways. The node (the
//   kubelet's probes, the name server) stays reachable from both sides, as a kubelet and a
//   node-local DNS cache are. The output chain runs after kube-proxy's DNAT (priority -100), so a
//   Service whose chosen endpoint is across the split times out, as it would.

const { NODE_IP, POD_CIDR } = require('../addresses');
const { DISCARD_OUT } = require('./drop');

/**
 * @param {object} p
 * @param {(pod: import('../pod').Pod) => boolean} p.isCut
 * @param {() => Set<import('../pod').Pod> | null} p.splitGroup the pods on the group's side, or null: no split
 * @returns {import('../types').PodTable}
 */
function partitionTable({ isCut, splitGroup }) {
  return {
    name: 'k8epart',
    render(pod) {
      /** @type {string[]} */
      const chains = [];
      if (isCut(pod)) {
        chains.push('  chain in { type filter hook input priority -200; iifname != "lo" drop; }',
          `  chain out { type route hook output priority -200; oifname != "lo" ${DISCARD_OUT}; }`);
      }
      const group = splitGroup();
      if (group) {
        const groupIps = [...group].filter((p) => !p.gone).map((p) => p.ip);
        // From inside the group, every pod address but the group's is across; from outside, the group's.
        /** @param {'saddr' | 'daddr'} f */
        const across = (f) => (group.has(pod)
          ? `ip ${f} ${POD_CIDR} ip ${f} != { ${[NODE_IP, ...groupIps].join(', ')} }`
          : groupIps.length ? `ip ${f} { ${groupIps.join(', ')} }` : null);
        if (across('saddr')) {
          chains.push(`  chain split_in { type filter hook input priority -90; ${across('saddr')} drop; }`,
            `  chain split_out { type route hook output priority -90; ${across('daddr')} ${DISCARD_OUT}; }`);
        }
      }
      return chains.length ? `${chains.join('\n')}\n` : null;
    },
  };
}

module.exports = { partitionTable };
