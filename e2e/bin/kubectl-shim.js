// @ts-check
'use strict';
// kubectl for the e2e emulator (run through bin/kubectl, which the harness puts first on PATH):
// forwards argv to the emulator daemon (socket in $K8E_SOCKET) and relays stdout, stderr and the
// exit code. Verbs outside the emulated list fail loudly.
const net = require('net');

const sock = process.env.K8E_SOCKET;
if (!sock) {
  process.stderr.write('kubectl emulator: K8E_SOCKET is not set (this kubectl only talks to the e2e emulator)\n');
  process.exit(1);
}
const conn = net.connect(sock);
let buf = '';
/** @type {number | null} */
let code = null;
conn.on('connect', () => conn.write(`${JSON.stringify({ op: 'kubectl', argv: process.argv.slice(2), cwd: process.cwd() })}\n`));
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
