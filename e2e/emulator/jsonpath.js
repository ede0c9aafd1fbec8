// @ts-check
'use strict';
// A small subset of kubectl's JSONPath templates: {.a.b}, {.items[*].x}, {.a[0]},
// {.a[?(@.type=="Ready")].status}, {range EXPR}...{end}, {"literal"} and plain text.
// Anything else throws, so a template the launch script uses cannot silently mean nothing.

/**
 * @typedef {{ key?: string, all?: boolean, index?: number, filter?: { path: Step[], op: string, value: string } }} Step
 * @typedef {{ text: string, expr?: undefined } | { expr: string, text?: undefined }} Token plain text, or the inside of one {…} action
 */

/** @param {string} template @returns {Token[]} */
function tokenize(template) {
  /** @type {Token[]} */
  const out = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) { out.push({ text: template.slice(i) }); break; }
    if (open > i) out.push({ text: template.slice(i, open) });
    let depth = 0; let j = open; let inStr = false;
    for (; j < template.length; j++) {
      const c = template[j];
      if (inStr) { if (c === '\\') j++; else if (c === '"') inStr = false; continue; }
      if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}') { depth--; if (depth === 0) break; }
    }
    if (j >= template.length) throw new Error(`unclosed action in jsonpath template: ${template}`);
    out.push({ expr: template.slice(open + 1, j).trim() });
    i = j + 1;
  }
  return out;
}

/** @param {string} s a {"literal"} action's JSON string */
function unquote(s) {
  return JSON.parse(s.replace(/\\t/g, '\\t'));
}

/**
 * Parses a path like .items[*].metadata.name into steps.
 * @param {string} expr
 * @returns {Step[]}
 */
function parsePath(expr) {
  if (expr === '@' || expr === '$' || expr === '') return [];
  let s = expr;
  if (s.startsWith('$')) s = s.slice(1);
  if (s.startsWith('@')) s = s.slice(1);
  /** @type {Step[]} */
  const steps = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      let j = i;
      // A key runs to the next unescaped dot: label keys have dots (kubernetes\.io/hostname).
      while (j < s.length) {
        if (s[j] === '\\' && j + 1 < s.length) { j += 2; continue; }
        if (!/[A-Za-z0-9_\-/]/.test(s[j])) break;
        j++;
      }
      if (j === i) {
        if (s[i] === '[' || i >= s.length) continue;
        throw new Error(`unsupported jsonpath: ${expr}`);
      }
      steps.push({ key: s.slice(i, j).replace(/\\\./g, '.') });
      i = j;
    } else if (s[i] === '[') {
      const close = findClose(s, i);
      const inner = s.slice(i + 1, close).trim();
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const m = /^@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(".*"|'.*'|[^\s]+)$/.exec(inner.slice(2, -1).trim());
        if (!m) throw new Error(`unsupported jsonpath filter: ${inner}`);
        let value = m[3];
        if (value.startsWith("'")) value = value.slice(1, -1);
        else if (value.startsWith('"')) value = JSON.parse(value);
        steps.push({ filter: { path: parsePath(m[1]), op: m[2], value } });
      } else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ key: inner.slice(1, -1) });
      else throw new Error(`unsupported jsonpath subscript: [${inner}]`);
      i = close + 1;
    } else {
      throw new Error(`unsupported jsonpath: ${expr}`);
    }
  }
  return steps;
}

/** @param {string} s @param {number} i the index of a [ @returns {number} the index of its ] */
function findClose(s, i) {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if (s[j] === '[') depth++;
    else if (s[j] === ']') { depth--; if (depth === 0) return j; }
  }
  throw new Error(`unbalanced [ in jsonpath: ${s}`);
}

/** @param {Step[]} steps @param {unknown[]} roots @returns {unknown[]} */
function evalPath(steps, roots) {
  /** @type {any[]} */
  let cur = roots;
  for (const st of steps) {
    /** @type {unknown[]} */
    const next = [];
    for (const v of cur) {
      if (v === undefined || v === null) continue;
      if (st.key !== undefined) { if (typeof v === 'object' && st.key in v) next.push(v[st.key]); } else if (st.all) {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v));
      } else if (st.index !== undefined) {
        if (Array.isArray(v)) { const k = st.index < 0 ? v.length + st.index : st.index; if (k >= 0 && k < v.length) next.push(v[k]); }
      } else if (st.filter) {
        const arr = Array.isArray(v) ? v : [];
        const filter = st.filter;
        for (const el of arr) {
          const got = evalPath(filter.path, [el]);
          const match = got.some((g) => String(g) === String(filter.value));
          if ((filter.op === '==') === match) next.push(el);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** @param {unknown} v */
function fmt(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Renders a template against an object. Throws on unsupported syntax.
 * @param {string} template
 * @param {unknown} obj
 * @returns {string}
 */
function render(template, obj) {
  const toks = tokenize(template);
  let pos = 0;
  /** @param {unknown} ctx @param {boolean} stopAtEnd @returns {string} */
  function block(ctx, stopAtEnd) {
    let out = '';
    while (pos < toks.length) {
      const t = toks[pos++];
      if (t.text !== undefined) { out += t.text; continue; }
      const e = t.expr;
      if (e === 'end') {
        if (!stopAtEnd) throw new Error('jsonpath: {end} without {range}');
        return out;
      }
      if (e.startsWith('range ')) {
        const items = evalPath(parsePath(e.slice(6).trim()), [ctx]);
        const start = pos;
        if (items.length === 0) { skipToEnd(); continue; }
        for (const it of items) { pos = start; out += block(it, true); }
        continue;
      }
      if (e.startsWith('"')) { out += unquote(e); continue; }
      if (e.startsWith('.') || e.startsWith('@') || e.startsWith('$')) {
        out += evalPath(parsePath(e), [ctx]).map(fmt).join(' ');
        continue;
      }
      throw new Error(`unsupported jsonpath action: {${e}}`);
    }
    if (stopAtEnd) throw new Error('jsonpath: {range} without {end}');
    return out;
  }
  function skipToEnd() {
    let depth = 1;
    while (pos < toks.length) {
      const t = toks[pos++];
      if (t.expr && t.expr.startsWith('range ')) depth++;
      if (t.expr === 'end' && --depth === 0) return;
    }
    throw new Error('jsonpath: {range} without {end}');
  }
  return block(obj, false);
}

module.exports = { render };
