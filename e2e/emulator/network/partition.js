// @ts-check
'use strict';
// A test's network cut (table k8epart): a cut pod drops every packet in and out except on
// loopback, as if its node lost the network. Two-sided partitions (a group against the rest) would
// render their rules here too.

/**
 * @param {(pod: import('../pod').Pod) => boolean} isCut
 * @returns {import('../types').PodTable}
 */
function partitionTable(isCut) {
  return {
    name: 'k8epart',
    render(pod) {
      if (!isCut(pod)) return null;
      return ['  chain in { type filter hook input priority -200; iifname != "lo" drop; }',
        '  chain out { type filter hook output priority -200; oifname != "lo" drop; }', ''].join('\n');
    },
  };
}

module.exports = { partitionTable };
