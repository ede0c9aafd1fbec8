// The StatefulSet topology's pod scripts on real redis-server processes, on loopback: what its
// pods run that the classic topology's do not (the startup and liveness probes).
import { spawn } from 'child_process';
import { createServer, Server } from 'net';
import { join } from 'path';
import { resolveStatefulSetSettings } from '../src/settings';
import { describeIfRedis, Loopback, loopbackNet, Pod, randomSecret } from './helpers/loopback';

const NET = loopbackNet();
const REDIS_PORT = 16379;
const SENTINEL_PORT = 26380;

describeIfRedis('StatefulSet pod scripts on real Redis processes (loopback)', () => {
  const settings = resolveStatefulSetSettings({ name: 'redis-ha', redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT });
  const secret = randomSecret(settings);
  let loop: Loopback;

  beforeAll(() => { loop = new Loopback({ settings, render: {} }); });
  afterAll(async () => { await loop.cleanup(); });

  /**
   * probe.sh CHECK in the pod, as the kubelet runs it: its exit code and output. Not spawnSync: a
   * fake server in this process must answer meanwhile.
   */
  const probe = (pod: Pod, check: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn('sh', [join(pod.dir, 'config', 'probe.sh'), check], {
      env: { PATH: process.env.PATH, CONFIG_DIR: join(pod.dir, 'config'), POD_IP: pod.ip, POD_NAME: 'redis-ha-0' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out: out.trim() }));
  });
  /** until(), for an async check. */
  const eventually = async (what: string, check: () => Promise<boolean>) => {
    const end = Date.now() + 30000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  describe('probes: startup waits for the data to load, liveness accepts any answer', () => {
    const servers: Server[] = [];
    afterAll(() => { for (const s of servers) s.close(); });

    test('a Redis that answers PONG has started and is alive', async () => {
      // GIVEN a Redis with the pods' users: the admin logs in with the Secret's password
      const pod = loop.makePod(`${NET}.2`, { secret });
      const server = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', pod.ip, '--save', '', '--appendonly', 'no',
        '--requirepass', secret['client-password'], '--user', 'admin', 'on', `>${secret['admin-password']}`, '~*', '&*', '+@all'], { stdio: 'ignore' });
      pod.procs.push(server);
      await eventually('the Redis answers', async () => (await probe(pod, 'redis-alive')).code === 0);
      // THEN both probes pass
      expect(await probe(pod, 'redis-started')).toEqual({ code: 0, out: '' });
      expect(await probe(pod, 'redis-alive')).toEqual({ code: 0, out: '' });
    });

    test('a Redis that is LOADING is alive but has not started', async () => {
      // GIVEN a server that answers every command as a Redis busy loading its append-only file does
      const pod = loop.makePod(`${NET}.3`, { secret });
      const loading = createServer((socket) => socket.on('data', () => socket.write('-LOADING Redis is loading the dataset in memory\r\n')));
      servers.push(loading);
      await new Promise<void>((r) => loading.listen(REDIS_PORT, pod.ip, r));
      // THEN liveness leaves it alone and startup keeps waiting
      expect(await probe(pod, 'redis-alive')).toEqual({ code: 0, out: '' });
      expect(await probe(pod, 'redis-started')).toEqual({ code: 1, out: 'redis has not started yet: LOADING Redis is loading the dataset in memory on port 16379' });
    });

    test('a Redis that does not answer is neither', async () => {
      const pod = loop.makePod(`${NET}.4`, { secret });
      expect(await probe(pod, 'redis-alive')).toEqual({ code: 1, out: 'redis does not answer on port 16379' });
      expect(await probe(pod, 'redis-started')).toEqual({ code: 1, out: 'redis has not started yet: no answer on port 16379' });
    });
  });
});
