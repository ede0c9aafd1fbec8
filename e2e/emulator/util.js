// @ts-check
'use strict';
// Helpers that every part of the emulator shares. This file requires no other file of the
// emulator, so any file may require it.

const { execFileSync } = require('child_process');

/** A manifest field or a kubectl use the emulator does not emulate: kubectl says "unsupported". */
class Unsupported extends Error {}

/** @returns {number} milliseconds since the epoch */
function now() { return Date.now(); }

/**
 * @param {number} t milliseconds since the epoch
 * @returns {string} the time as Kubernetes prints it (whole seconds, UTC)
 */
function iso(t) { return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'); }

/**
 * Runs a command to its end.
 * @param {string} cmd
 * @param {string[]} args
 * @returns {string} its stdout; throws with its stderr when it fails
 */
function run(cmd, args) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/**
 * Sends a signal to every process of a process group. A group that is gone already is no error:
 * the emulator's processes end on their own schedule.
 * @param {number | undefined} pgid the group's leader
 * @param {NodeJS.Signals} signal
 */
function signalGroup(pgid, signal) {
  if (pgid === undefined) return;
  try { process.kill(-pgid, signal); } catch { /* gone */ }
}

/**
 * Whether labels carry every key and value of an equality selector (`spec.selector` of a Service or
 * a ReplicationController).
 * @param {Record<string, string> | undefined} selector
 * @param {Record<string, string> | undefined} labels
 */
function matchLabels(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);
}

/**
 * Whether labels match a LabelSelector (`matchLabels` and `matchExpressions` with In, NotIn,
 * Exists, DoesNotExist), as NetworkPolicies and PodDisruptionBudgets select pods. An empty
 * selector matches everything; the caller decides what an absent one means.
 * @param {import('@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector').ILabelSelector} selector
 * @param {Record<string, string> | undefined} labels
 */
function labelSelectorMatches(selector, labels) {
  const l = labels || {};
  if (!matchLabels(selector.matchLabels, l)) return false;
  return (selector.matchExpressions || []).every((e) => {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    switch (e.operator) {
      case 'In': return has && (e.values || []).includes(l[e.key]);
      case 'NotIn': return !has || !(e.values || []).includes(l[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: throw new Error(`label selector operator ${e.operator} (key ${e.key}): use In, NotIn, Exists or DoesNotExist`);
    }
  });
}

/** @param {unknown} s @returns {string} s as one POSIX sh word */
function shQuote(s) { return `'${String(s).replace(/'/g, "'\\''")}'`; }

module.exports = { Unsupported, now, iso, run, signalGroup, matchLabels, labelSelectorMatches, shQuote };
