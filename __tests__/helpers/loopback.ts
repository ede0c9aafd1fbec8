// Fake pods on loopback for the tests that run the entry scripts on real redis-server and
// redis-sentinel processes. Each "pod" is a loopback address (127.0.x.y): its Redis and Sentinel
// bind to it, its ConfigMap files are rendered into its own config dir through RenderOptions, and
// its "Secret" is a directory of files that the test writes as the kubelet would. Nothing leaves
// the machine.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { createConnection, createServer, Server } from 'net';
import { join } from 'path';
import { RedisSentinelSettings } from '../../src';
import { configMapData, RenderOptions } from '../../src/redis-config';

const have = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };
export const haveRedis = have('redis-server') && have('redis-sentinel') && have('redis-cli');
/** `describe`, or `describe.skip` with a warning when Redis is not installed (.ci/run installs it). */
export const describeIfRedis = haveRedis ? describe : describe.skip;
if (!haveRedis) console.warn('loopback tests skipped: redis-server, redis-sentinel and redis-cli are not installed');

/**
 * A /24 of loopback addresses for one test file's run, `127.A.B` (A from 64 to 253), picked at
 * random: fake pods bind fixed ports, so two runs on one machine (another worktree's, say) must not
 * share addresses. Linux routes all of 127.0.0.0/8 to the loopback device.
 */
export function loopbackNet(): string {
  const [a, b] = [...randomBytes(2)];
  return `127.${64 + (a % 190)}.${b % 255}`;
}

/** An INFO replication text of a replica that is linked to `master`. */
export function linkedTo(master: string, info: string): boolean {
  return new RegExp(`master_host:${master.replace(/\./g, '\\.')}\\r?\\n[\\s\\S]*master_link_status:up`).test(info);
}

/** The auth Secret's files: key -> password. */
export type SecretFiles = Record<string, string>;

/** Random passwords for the four keys of the default Secret. */
export function randomSecret(settings: RedisSentinelSettings): SecretFiles {
  const keys = Object.values(settings.auth?.secretKeys ?? {});
  return Object.fromEntries(keys.map((k) => [k, execFileSync('od', ['-An', '-N16', '-tx1', '/dev/urandom'], { encoding: 'utf8' }).replace(/\s/g, '')]));
}

export interface Pod {
  readonly ip: string;
  readonly dir: string;
  readonly authDir: string;
  readonly runDir: string;
  readonly procs: ChildProcess[];
}

export interface Container {
  readonly pod: Pod;
  /** The env the manifests give it (MASTER, SENTINEL). */
  readonly env: Record<string, string>;
  readonly proc: ChildProcess;
  log(): string;
}

/** Who runs a redis-cli call: a user and password (the admin's by default), or nobody. */
export interface As { readonly user?: string; readonly password?: string }

export class Loopback {
  readonly root = mkdtempSync(join(tmpdir(), 'loopback-'));
  readonly pods: Pod[] = [];

  constructor(private readonly defaults: { settings: RedisSentinelSettings; render: RenderOptions; env?: Record<string, string> }) {}

  /** A pod: the ConfigMap's files in its config dir, rendered for its own address and dirs, and its Secret's files. */
  makePod(ip: string, options: RenderOptions & { settings?: RedisSentinelSettings; secret?: SecretFiles } = {}): Pod {
    const { settings = this.defaults.settings, secret, ...render } = options;
    const dir = join(this.root, ip);
    const pod: Pod = { ip, dir, authDir: join(dir, 'auth'), runDir: join(dir, 'run'), procs: [] };
    for (const sub of ['config', 'data', 'sentinel', 'auth', 'run']) mkdirSync(join(dir, sub), { recursive: true });
    const files = configMapData(settings, {
      bind: ip, bindSourceAddr: ip, dataDir: join(dir, 'data'), sentinelStateDir: join(dir, 'sentinel'), authDir: pod.authDir, runDir: pod.runDir,
      ...this.defaults.render, ...render,
    });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'config', file), text);
    if (secret) writeSecret(pod, secret);
    this.pods.push(pod);
    return pod;
  }

  /** Starts a container: the entry script with the env the manifests give it. */
  start(pod: Pod, env: Record<string, string>): Container {
    return this.run(pod, env, 'entrypoint.sh');
  }

  /**
   * Runs a hook of a container (its preStop, prestop.sh) in the container's env, as the kubelet
   * does; resolves to its exit code and output.
   */
  async hook(c: Container, script: string): Promise<{ code: number | null; log: string }> {
    const h = this.run(c.pod, c.env, script, false);
    const code = await new Promise<number | null>((r) => h.proc.on('exit', r));
    return { code, log: h.log() };
  }

  /** Stops (SIGSTOP) every process of a container, as the cgroup freezer does. */
  freeze(c: Container): void { process.kill(-c.proc.pid!, 'SIGSTOP'); }

  /** Resumes a frozen container. */
  thaw(c: Container): void { process.kill(-c.proc.pid!, 'SIGCONT'); }

  /** Ends every process of a container at once (a lost pod, or a container killed with grace 0). */
  kill(c: Container): void { try { process.kill(-c.proc.pid!, 'SIGKILL'); } catch { /* gone already */ } }

  private run(pod: Pod, env: Record<string, string>, script: string, main = true): Container {
    let out = '';
    const file = join(pod.dir, `${env.SENTINEL ? 'sentinel' : 'redis'}.${main ? '' : `${script}.`}${pod.procs.length}.log`);
    const proc = spawn('sh', [join(pod.dir, 'config', script)], {
      env: { PATH: process.env.PATH, CONFIG_DIR: join(pod.dir, 'config'), POD_IP: pod.ip, POD_NAME: `pod-${pod.ip}`, ...this.defaults.env, ...env },
      detached: true, // its own process group: the background loops and the server die with it
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => { out += d; appendFileSync(file, d); });
    proc.stderr!.on('data', (d) => { out += d; appendFileSync(file, d); });
    // When the main process ends, so does the container: Kubernetes ends the rest of its processes.
    if (main) proc.on('exit', () => { try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* none left */ } });
    pod.procs.push(proc);
    return { pod, env, log: () => out, proc };
  }

  /**
   * Kills every container's process group, also of a container whose main process ended (its
   * background loops live on, where Kubernetes would have ended them with the container), and
   * removes the files (LOOPBACK_KEEP=1 keeps them, with each container's log, and says where).
   */
  async cleanup(): Promise<void> {
    for (const p of this.pods) {
      for (const proc of p.procs) {
        // A container is a process group of its own (detached); a server a test spawned itself may
        // not be: then the process alone (the last CI run left one such redis-server running).
        if (!proc.pid) continue;
        try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* no such group */ }
        if (proc.exitCode === null && proc.signalCode === null) { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ } }
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    if (process.env.LOOPBACK_KEEP) console.warn(`loopback files and logs kept in ${this.root}`);
    else rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Replaces a pod's Secret files as the kubelet does: each file whole (a rename), and the keys that
 * are no longer in the Secret removed.
 */
export function writeSecret(pod: Pod, files: SecretFiles): void {
  for (const [key, value] of Object.entries(files)) {
    writeFileSync(join(pod.authDir, `.${key}.tmp`), value);
    renameSync(join(pod.authDir, `.${key}.tmp`), join(pod.authDir, key));
  }
  for (const key of readdirSync(pod.authDir)) if (!(key in files)) rmSync(join(pod.authDir, key));
}

/**
 * redis-cli ARGS..., or with no args the commands on `input`, one a line, all on one connection;
 * logged in as `as` (the password goes on stdin, with --askpass). Throws when redis-cli fails or
 * prints an error reply.
 */
export function redisCli(ip: string, port: number, args: string[], input = '', as: As = {}): string {
  const r = rawCli(ip, port, args, input, as);
  // redis-cli exits 0 on an error reply and prints it as a line that opens with its upper-case code
  if (r.status !== 0 || /^[A-Z]{3,} /m.test(r.out)) {
    throw new Error(`redis-cli -h ${ip} -p ${port} ${args.join(' ') || input}: status ${r.status}\n${r.out}\n${r.err}`);
  }
  return r.out;
}

/** redis-cli as redisCli, but returning the reply and status whatever they are. */
export function rawCli(ip: string, port: number, args: string[], input = '', as: As = {}): { status: number | null; out: string; err: string } {
  const auth = as.password !== undefined ? [...(as.user ? ['--user', as.user] : []), '--askpass'] : [];
  const r = spawnSync('redis-cli', ['-h', ip, '-p', String(port), ...auth, ...args], {
    input: as.password !== undefined ? `${as.password}\n${input}` : input, timeout: 5000, encoding: 'utf8',
  });
  return { status: r.status, out: (r.stdout ?? '').trim(), err: `${r.error ?? ''}${r.stderr ?? ''}` };
}

export async function until(what: string, check: () => boolean, seconds = 30): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds}s waiting until ${what}`);
}

/** RESP replies, for a fake server. */
export const resp = {
  ok: '+OK\r\n',
  nil: '$-1\r\n',
  bulk: (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`,
  error: (s: string) => `-${s}\r\n`,
  /** An array of replies (each already encoded). */
  array: (items: string[]) => `*${items.length}\r\n${items.join('')}`,
  /** A command, as a client sends it. */
  command: (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
};

/** A server that speaks RESP: each command's arguments go to `reply`, which returns the encoded reply. */
export async function respServer(host: string, port: number, reply: (args: string[]) => string): Promise<Server> {
  const server = createServer((socket) => {
    let buffer = '';
    socket.on('data', (d) => {
      buffer += d.toString('latin1');
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buffer);
        if (!m) return;
        let at = m[0].length;
        const args: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const len = /^\$(\d+)\r\n/.exec(buffer.slice(at));
          if (!len || buffer.length < at + len[0].length + Number(len[1]) + 2) return;
          args.push(buffer.substr(at + len[0].length, Number(len[1])));
          at += len[0].length + Number(len[1]) + 2;
        }
        buffer = buffer.slice(at);
        socket.write(reply(args));
      }
    });
    socket.on('error', () => { /* the client went away */ });
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return server;
}

/** A client connection, logged in; resolves once connected, to a promise that settles when the server drops it. */
export async function connectedClient(host: string, port: number, user: string, password: string): Promise<{ closed: Promise<void> }> {
  const socket = createConnection({ host, port });
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', (d) => (d.toString().startsWith('+OK') ? resolve() : reject(new Error(d.toString()))));
    socket.write(resp.command('AUTH', user, password));
  });
  return { closed };
}
