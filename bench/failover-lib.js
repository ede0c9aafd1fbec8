// @ts-check
'use strict';
// What the failover benchmarks (failover-bench.js, chaos-bench.js) share: their arguments and how
// they summarise times.

/** @param {string} name @param {string | null} dflt @returns {string | null} --name VALUE or --name=VALUE */
function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : dflt;
}

/**
 * @param {Array<number | null>} xs
 * @returns {{ min: number | null, median: number | null, max: number | null, n: number }}
 */
function stats(xs) {
  const v = /** @type {number[]} */ (xs.filter((x) => typeof x === 'number')).sort((a, b) => a - b);
  if (!v.length) return { min: null, median: null, max: null, n: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { min: v[0], median, max: v[v.length - 1], n: v.length };
}

/** @param {number | null | undefined} ms */
function sec(ms) { return ms === null || ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`; }

module.exports = { arg, stats, sec };
