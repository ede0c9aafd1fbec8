// @ts-check
'use strict';
// kubectl's argument grammar as the emulated verbs share it: flags, label selectors, durations,
// and the error for a use outside the emulated surface.

/** @typedef {Record<string, string[]>} Flags */

/** A verb, flag or form the emulated kubectl does not have: it says "unsupported". */
class UsageError extends Error {}

/**
 * Splits "--flag=value" / "--flag value" / "-f value"; valueFlags take a value, boolFlags may have
 * =true or =false. Any other flag is unsupported.
 * @param {string[]} args
 * @param {string[]} valueFlags
 * @param {string[]} boolFlags
 * @returns {{ flags: Flags, pos: string[], rest: string[] | null }} rest: what follows "--"
 */
function parseFlags(args, valueFlags, boolFlags) {
  /** @type {Flags} */
  const flags = {};
  /** @type {string[]} */
  const pos = [];
  /** @type {string[] | null} */
  let rest = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { rest = args.slice(i + 1); break; }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (valueFlags.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new UsageError(`flag ${name} needs a value`);
        (flags[name] = flags[name] || []).push(v);
      } else if (boolFlags.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : 'true';
        if (!['true', 'false'].includes(v)) throw new UsageError(`flag ${a}`);
        flags[name] = [v];
      } else {
        throw new UsageError(`flag ${a}`);
      }
    } else {
      pos.push(a);
    }
  }
  return { flags, pos, rest };
}

/** The last value of the first of names that was given. @param {Flags} flags @param {...string} names */
function one(flags, ...names) {
  for (const n of names) if (flags[n]) return flags[n][flags[n].length - 1];
  return undefined;
}

/**
 * A label selector: k=v, k==v, k!=v, k, !k, joined by commas.
 * @param {string} sel
 * @returns {(labels: Record<string, string>) => boolean}
 */
function parseSelector(sel) {
  /** @type {Array<{ k: string, op: '=' | '!=' | '!' | 'exists', v?: string }>} */
  const terms = [];
  for (const part of String(sel).split(',').map((s) => s.trim()).filter(Boolean)) {
    let m;
    if ((m = /^([^!=]+)!=(.*)$/.exec(part))) terms.push({ k: m[1], op: '!=', v: m[2] });
    else if ((m = /^([^!=]+)==?(.*)$/.exec(part))) terms.push({ k: m[1], op: '=', v: m[2] });
    else if ((m = /^!([^!=]+)$/.exec(part))) terms.push({ k: m[1], op: '!' });
    else if (/^[A-Za-z0-9._\/-]+$/.test(part)) terms.push({ k: part, op: 'exists' });
    else throw new UsageError(`label selector ${sel}`);
  }
  return (labels) => terms.every((t) => {
    const has = Object.prototype.hasOwnProperty.call(labels || {}, t.k);
    if (t.op === '=') return has && labels[t.k] === t.v;
    if (t.op === '!=') return !has || labels[t.k] !== t.v;
    if (t.op === '!') return !has;
    return has;
  });
}

/** @param {string | undefined} s e.g. 30s, 500ms, 2m @param {number} dflt @returns {number} ms */
function parseDuration(s, dflt) {
  if (s === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(s));
  if (!m) throw new UsageError(`duration ${s}`);
  /** @type {Record<string, number>} */
  const units = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  return Number(m[1]) * units[m[2] || 's'];
}

/**
 * A duration as Go prints it (kubectl's messages): 3s, 1m30s, 500ms.
 * @param {number} ms
 */
function goDuration(ms) {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = (ms % 60000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

module.exports = { UsageError, parseFlags, one, parseSelector, parseDuration, goDuration };
