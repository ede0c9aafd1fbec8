// @ts-check
'use strict';
// kubectl for the e2e emulator (run through bin/kubectl, which the harness puts first on PATH):
// forwards argv to the emulator daemon (socket in $K8E_SOCKET) and relays stdout, stderr and the
// exit code. Verbs outside the emulated list fail loudly. Files named by --from-file are read here,
// with the caller's permissions and view of the file system (a pod's private /tmp, say), as
// kubectl reads them, and travel with the call; the daemon never opens them.
const fs = require('fs');
const net = require('net');
const path = require('path');

const sock = process.env.K8E_SOCKET;
if (!sock) {
  process.stderr.write('kubectl emulator: K8E_SOCKET is not set (this kubectl only talks to the e2e emulator)\n');
  process.exit(1);
}
/**
 * What one --from-file source holds: a file's bytes, a directory's regular files (by name), or the
 * error that reading it gave. Base64.
 * @param {string} source a path, relative to the caller's directory
 * @returns {import('../emulator/kubectl').ClientFile}
 */
function readSource(source) {
  const p = path.resolve(source);
  try {
    if (!fs.statSync(p).isDirectory()) return { file: fs.readFileSync(p).toString('base64') };
    /** @type {Record<string, string>} */
    const dir = {};
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.isFile()) dir[e.name] = fs.readFileSync(path.join(p, e.name)).toString('base64');
    }
    return { dir };
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    return { error: err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message };
  }
}

const argv = process.argv.slice(2);
/** --from-file values: "--from-file=[KEY=]PATH" or "--from-file [KEY=]PATH"; the PATH follows the first "=". */
const fromFiles = argv.flatMap((a, i) => {
  if (a.startsWith('--from-file=')) return [a.slice('--from-file='.length)];
  if (a === '--from-file' && i + 1 < argv.length) return [argv[i + 1]];
  return [];
});
/** @type {Record<string, import('../emulator/kubectl').ClientFile>} */
const files = {};
for (const spec of fromFiles) {
  const source = spec.includes('=') ? spec.slice(spec.indexOf('=') + 1) : spec;
  if (source) files[source] = readSource(source);
}

const conn = net.connect(sock);
let buf = '';
/** @type {number | null} */
let code = null;
conn.on('connect', () => conn.write(`${JSON.stringify({ op: 'kubectl', argv, cwd: process.cwd(), files })}\n`));
conn.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    if (m.t === 'out') process.stdout.write(Buffer.from(m.d, 'base64'));
    else if (m.t === 'err') process.stderr.write(Buffer.from(m.d, 'base64'));
    else if (m.t === 'result') code = m.code;
    else if (m.t === 'error') { process.stderr.write(`kubectl emulator: ${m.message}\n`); code = 1; }
  }
});
conn.on('error', (e) => { process.stderr.write(`kubectl emulator: cannot reach the emulator at ${sock}: ${e.message}\n`); process.exit(1); });
conn.on('close', () => {
  const exit = () => process.exit(code === null ? 1 : code);
  // Let stdout drain before exiting (pipes).
  if (process.stdout.writableLength) process.stdout.once('drain', exit); else exit();
});
process.on('SIGTERM', () => { conn.destroy(); process.exit(143); });
process.on('SIGINT', () => { conn.destroy(); process.exit(130); });
