// @ts-check
'use strict';
// A one-shot Redis client: connect, send commands, read their replies, close. No retries, no
// reconnects, so a test sees exactly what one server answered (or that it did not).
const net = require('net');

/** @typedef {string | number | null | ReplyError | any[]} Reply a RESP2 reply (arrays of replies nest); -ERR as a ReplyError */

/** @param {Array<string | number>} args @returns {string} one command in RESP */
function encode(args) {
  return `*${args.length}\r\n${args.map((a) => { const s = Buffer.from(String(a)); return `$${s.length}\r\n${s}\r\n`; }).join('')}`;
}

/**
 * Parses one reply from buf at pos.
 * @param {Buffer} buf
 * @param {number} pos
 * @returns {[Reply, number] | null} the reply and where the next one starts; null when incomplete
 */
function parse(buf, pos) {
  if (pos >= buf.length) return null;
  const end = buf.indexOf('\r\n', pos);
  if (end < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.slice(pos + 1, end).toString();
  const next = end + 2;
  if (type === '+') return [line, next];
  if (type === '-') return [new ReplyError(line), next];
  if (type === ':') return [Number(line), next];
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return [null, next];
    if (buf.length < next + n + 2) return null;
    return [buf.slice(next, next + n).toString(), next + n + 2];
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return [null, next];
    /** @type {Reply[]} */
    const arr = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = parse(buf, p);
      if (!r) return null;
      arr.push(r[0]);
      p = r[1];
    }
    return [arr, p];
  }
  throw new Error(`bad RESP type ${type}`);
}

class ReplyError extends Error {}

/**
 * Sends commands on one connection and reads their replies.
 * @param {string} host
 * @param {number} port
 * @param {Array<Array<string | number>>} commands argv arrays
 * @param {number} [timeoutMs]
 * @returns {Promise<Reply[]>} the replies, ReplyError objects for -ERR
 */
function call(host, port, commands, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    /** @type {Reply[]} */
    const replies = [];
    let pos = 0;
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`timeout talking to ${host}:${port}`)); }, timeoutMs);
    sock.on('connect', () => sock.write(commands.map(encode).join('')));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parse(buf, pos);
        if (!r) break;
        replies.push(r[0]);
        pos = r[1];
      }
      if (replies.length >= commands.length) { clearTimeout(t); sock.destroy(); resolve(replies); }
    });
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('close', () => { clearTimeout(t); if (replies.length < commands.length) reject(new Error(`connection to ${host}:${port} closed`)); });
  });
}

/** @param {string} host @param {number} port @param {Array<string | number>} args @param {number} [timeoutMs] */
async function one(host, port, args, timeoutMs) {
  const [r] = await call(host, port, [args], timeoutMs);
  return r;
}

/** A field of an INFO reply. @param {Reply} info @param {string} key @returns {string | undefined} */
function infoField(info, key) {
  const m = new RegExp(`^${key}:(.*)$`, 'm').exec(typeof info === 'string' ? info : '');
  return m ? m[1].trim() : undefined;
}

module.exports = { call, one, encode, infoField, ReplyError };
