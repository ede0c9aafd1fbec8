import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { RedisSentinelPropError, RedisSentinelProps, resolveSettings } from '../src';

describe('resolveSettings', () => {
  test('defaults are the seed\'s names and our timings', () => {
    const s = resolveSettings({});
    expect(s.names).toEqual({
      instance: 'redis',
      configMap: 'redis-config',
      bootstrapPod: 'redis-master',
      sentinelService: 'redis-sentinel',
      headlessService: 'redis-headless',
      redisController: 'redis',
      sentinelController: 'redis-sentinel',
      networkPolicy: 'redis',
      redisDisruptionBudget: 'redis',
      sentinelDisruptionBudget: 'redis-sentinel',
    });
    expect(s.labels.bootstrapPod).toMatchObject({ 'name': 'redis', 'redis-sentinel': 'true', 'role': 'master' });
    expect(s.labels.sentinelPod).toMatchObject({ 'name': 'redis-sentinel', 'redis-sentinel': 'true', 'role': 'sentinel' });
    expect(s.labels.sentinelService).toMatchObject({ name: 'sentinel', role: 'service' });
    expect(s).toMatchObject({
      image: 'redis:8.6.5', redisReplicas: 3, sentinelReplicas: 3, masterName: 'mymaster', quorum: 2,
      downAfterMs: 5000, failoverTimeoutMs: 15000, parallelSyncs: 1, minReplicasToWrite: 1,
      redisPort: 6379, sentinelPort: 26379, discoveryTimeoutSeconds: 120, networkPolicy: true,
    });
    expect(s.redisResources).toEqual({ requests: { cpu: '100m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    expect(s.sentinelResources).toEqual({ requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '64Mi' } });
    expect(s.maxMemoryBytes).toBe(Math.floor(512 * 1024 * 1024 * 0.6));
    expect(s.auth).toEqual({
      secretName: 'redis-auth', clientAclRules: [],
      secretKeys: { client: 'client-password', replication: 'replication-password', sentinel: 'sentinel-password', admin: 'admin-password' },
    });
    expect(s.namespace).toBeUndefined();
  });

  test('every object and pod gets the Kubernetes recommended labels, distinct per instance', () => {
    const a = resolveSettings({ name: 'redis' }).labels;
    const b = resolveSettings({ name: 'cache' }).labels;
    expect(a.recommended.sentinel).toEqual({
      'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'redis', 'app.kubernetes.io/component': 'sentinel',
      'app.kubernetes.io/part-of': 'redis', 'app.kubernetes.io/managed-by': 'cdk8s',
    });
    expect(a.sentinelService).not.toEqual(b.sentinelService);
    expect(b.sentinelService).toMatchObject({ 'name': 'sentinel', 'role': 'service', 'app.kubernetes.io/instance': 'cache' });
    expect(b.instanceSelector).toEqual({ 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'cache' });
    expect(b.clientSelector).toEqual({ 'cache-client': 'true' });
  });

  test('the namespace falls back to the chart\'s, and the prop wins over it', () => {
    expect(resolveSettings({}, { chartNamespace: 'team-a' }).namespace).toBe('team-a');
    expect(resolveSettings({ namespace: 'apps' }, { chartNamespace: 'team-a' }).namespace).toBe('apps');
  });

  test('a second instance derives every name and selector from its name', () => {
    const s = resolveSettings({ name: 'cache' });
    expect(Object.values(s.names)).toEqual(['cache', 'cache-config', 'cache-master', 'cache-sentinel', 'cache-headless', 'cache', 'cache-sentinel', 'cache', 'cache', 'cache-sentinel']);
    expect(s.labels.redisSelector).toEqual({ name: 'cache' });
    expect(s.labels.sentinelSelector).toEqual({ 'cache-sentinel': 'true' });
  });

  test('the seed\'s 60 s / 180 s timings are one prop change away', () => {
    const s = resolveSettings({ downAfter: Duration.seconds(60), failoverTimeout: Duration.seconds(180) });
    expect([s.downAfterMs, s.failoverTimeoutMs]).toEqual([60000, 180000]);
  });

  test('resources become Kubernetes quantities', () => {
    const s = resolveSettings({
      redisResources: { cpu: { request: Cpu.millis(100), limit: Cpu.units(1) }, memory: { request: Size.mebibytes(64), limit: Size.gibibytes(1) } },
    });
    expect(s.redisResources).toEqual({ limits: { cpu: '1', memory: '1024Mi' }, requests: { cpu: '100m', memory: '64Mi' } });
    expect(resolveSettings({ sentinelResources: { memory: { request: Size.kibibytes(1536), limit: Size.kibibytes(1536) } } }).sentinelResources.limits.memory).toBe('1536Ki');
    expect(resolveSettings({ redisResources: { memory: { limit: Size.gibibytes(2) } } }).maxMemoryBytes).toBe(Math.floor(2 * 1024 ** 3 * 0.6));
    expect(resolveSettings({ maxMemory: Size.mebibytes(100) }).maxMemoryBytes).toBe(100 * 1024 * 1024);
  });

  test('the containers keep the seed\'s names, which the launch script also uses', () => {
    expect(resolveSettings({ name: 'cache' }).containers).toEqual({ bootstrapRedis: 'master', redis: 'redis', sentinel: 'sentinel' });
  });

  // Each bad prop: the message names the prop, shows the value and gives the fix.
  const bad: Array<[string, RedisSentinelProps, RegExp]> = [
    ['quorum 0', { quorum: 0 }, /prop 'quorum' = 0: it must be a whole number from 1 to 2: .*sentinelReplicas - 1 \(2\).*Fix: set quorum to 2/],
    ['quorum above the sentinel count', { quorum: 4 }, /prop 'quorum' = 4: .*Fix: set quorum to 2 \(a majority of 3\)/],
    ['quorum equal to the sentinel count', { quorum: 3 }, /prop 'quorum' = 3: .*bootstrap pod's sentinel leaves with it/],
    ['quorum not whole', { quorum: 1.5 }, /prop 'quorum' = 1.5/],
    ['redis replicas 0', { redisReplicas: 0 }, /prop 'redisReplicas' = 0: it must be a whole number from 2 to 2147483647.*Fix: set redisReplicas to 2 or more/],
    ['redis replicas 1', { redisReplicas: 1, minReplicasToWrite: 0 }, /prop 'redisReplicas' = 1: .*replica to promote/],
    ['sentinel replicas 0', { sentinelReplicas: 0 }, /prop 'sentinelReplicas' = 0: it must be a whole number from 3 to 2147483647/],
    ['sentinel replicas 2', { sentinelReplicas: 2, quorum: 1 }, /prop 'sentinelReplicas' = 2: .*majority/],
    ['failover timeout equal to down-after', { downAfter: Duration.seconds(10), failoverTimeout: Duration.seconds(10) },
      /prop 'failoverTimeout' = Duration\(10000 ms\): it must be longer than downAfter \(10000 ms\).*Fix: set failoverTimeout to about three times downAfter, e.g. Duration.millis\(30000\)/],
    ['failover timeout below down-after', { downAfter: Duration.seconds(60) }, /prop 'failoverTimeout' = "15000 ms": it must be longer than downAfter \(60000 ms\)/],
    ['down-after below a second', { downAfter: Duration.millis(500) }, /prop 'downAfter' = Duration\(500 ms\): Sentinel pings once a second/],
    ['down-after of 1e21 ms', { downAfter: Duration.millis(1e21) }, /prop 'downAfter' = Duration\(1e\+21 ms\): it must be a positive whole number of milliseconds/],
    ['down-after of 2^31 ms', { downAfter: Duration.millis(2 ** 31), failoverTimeout: Duration.millis(2 ** 31 + 1) }, /prop 'downAfter' = Duration\(2147483648 ms\): .*at most|from 1 s to 2147483647 ms/],
    ['failover timeout of 2^31 ms', { failoverTimeout: Duration.millis(2 ** 31) }, /prop 'failoverTimeout' = Duration\(2147483648 ms\): .*at most 2147483647 ms/],
    ['a fractional duration', { downAfter: Duration.millis(1500.5) }, /prop 'downAfter' = .*cdk8s cannot turn it into milliseconds/],
    ['down-after as a number', { downAfter: 5000 as unknown as Duration }, /prop 'downAfter' = 5000: durations are cdk8s Duration values/],
    ['name with capitals', { name: 'Redis' }, /prop 'name' = "Redis": .*DNS label.*Fix: use a name such as 'redis' or 'cache'/],
    ['name with an underscore', { name: 'my_redis' }, /prop 'name' = "my_redis"/],
    ['name starting with a digit', { name: '1redis' }, /prop 'name' = "1redis"/],
    ['name too long for its derived names', { name: 'r'.repeat(55) }, /prop 'name' = "r{55}": .*at most 54 characters/],
    ['empty name', { name: '' }, /prop 'name' = "": /],
    ['namespace not a DNS label', { namespace: 'Prod.NS' }, /prop 'namespace' = "Prod.NS": a namespace must be a DNS label/],
    ['empty image', { image: '' }, /prop 'image' = "": an image reference is.*Fix: use e.g. 'redis:8.6.5'/],
    ['blank image', { image: '   ' }, /prop 'image' = "   ": an image reference is/],
    ['unpinned image', { image: 'redis' }, /prop 'image' = "redis": the image must be pinned.*Fix: add a version tag, e.g. 'redis:8.6.5'/],
    ['an image with shell in its tag', { image: 'redis:$(id)' }, /prop 'image' = "redis:\$\(id\)": an image reference is/],
    ['an uppercase repository', { image: 'REDIS:7.2.5' }, /prop 'image' = "REDIS:7.2.5": an image reference is/],
    ['a short digest', { image: 'redis@sha256:abc' }, /prop 'image' = "redis@sha256:abc": an image reference is/],
    ['latest image', { image: 'redis:latest' }, /prop 'image' = "redis:latest": the image must be pinned/],
    ['registry port is not a tag', { image: 'registry.local:5000/redis' }, /prop 'image' = "registry.local:5000\/redis": the image must be pinned/],
    ['image with a space', { image: 'redis: 7' }, /prop 'image' = "redis: 7": an image reference is/],
    ['master name with a space', { masterName: 'my master' }, /prop 'masterName' = "my master": a master name may hold only/],
    ['parallel syncs 0', { parallelSyncs: 0 }, /prop 'parallelSyncs' = 0: it must be a whole number from 1 to 2147483647/],
    ['parallel syncs 2^31', { parallelSyncs: 2 ** 31 }, /prop 'parallelSyncs' = 2147483648: it must be a whole number from 1 to 2147483647/],
    ['min replicas to write above the replicas', { minReplicasToWrite: 3 }, /prop 'minReplicasToWrite' = 3: it must be a whole number from 0 to 2: it must be at most redisReplicas - 1 \(2\)/],
    ['min replicas to write 2^31', { redisReplicas: 2 ** 31 - 1, minReplicasToWrite: 2 ** 31 }, /prop 'minReplicasToWrite' = 2147483648/],
    ['negative min replicas to write', { minReplicasToWrite: -1 }, /prop 'minReplicasToWrite' = -1/],
    ['same ports', { sentinelPort: 6379 }, /prop 'sentinelPort' = 6379: Redis and Sentinel share the bootstrap pod's network/],
    ['port out of range', { redisPort: 70000 }, /prop 'redisPort' = 70000: it must be a whole number from 1024 to 65535/],
    ['a privileged port', { sentinelPort: 80 }, /prop 'sentinelPort' = 80: .*from 1024 to 65535: .*capability to bind lower ports/],
    ['discovery timeout too short', { discoveryTimeout: Duration.seconds(1) }, /prop 'discoveryTimeout' = Duration\(1000 ms\)/],
    ['an unknown prop', { replica: 3 } as any, /prop 'replica' = 3: there is no such prop \(did you mean 'quorum'\?|prop 'replica' = 3: there is no such prop/],
    ['a misspelt prop', { masterNme: 'x' } as any, /prop 'masterNme' = "x": there is no such prop \(did you mean 'masterName'\?\).*Fix: rename it to 'masterName'/],
    ['a null prop', { quorum: null } as any, /prop 'quorum' = null: null is not a value for any prop.*Fix: leave 'quorum' unset/],
    ['null props', null as any, /prop 'props' = null: props are an object of optional settings/],
    ['a number as a string', { quorum: '2' } as any, /prop 'quorum' = "2": it must be a whole number/],
    ['a master name object whose text changes', { masterName: { toString: () => 'x' } } as any, /prop 'masterName' = \{\}: it must be a string/],
    ['a boolean network policy as text', { networkPolicy: 'no' } as any, /prop 'networkPolicy' = "no": it is true or false/],
    ['auth true-ish text', { auth: 'on' } as any, /prop 'auth' = "on": it is false \(no authentication\) or an object/],
    ['a bad secret name', { auth: { secretName: 'Redis_Auth' } }, /prop 'auth.secretName' = "Redis_Auth": a Secret name is a DNS subdomain/],
    ['an ACL rule with keys', { auth: { clientAclRules: ['~secret*'] } }, /prop 'auth.clientAclRules' = "~secret\*": each rule adds \(\+\) or removes \(-\)/],
    ['an ACL rule with a space', { auth: { clientAclRules: ['+get +set'] } }, /prop 'auth.clientAclRules' = "\+get \+set"/],
    ['an ACL rule naming no command', { auth: { clientAclRules: ['+notacommand'] } }, /prop 'auth.clientAclRules' = "\+notacommand": Redis 7.0 has no command 'notacommand'/],
    ['an ACL rule naming no category', { auth: { clientAclRules: ['+@everything'] } }, /prop 'auth.clientAclRules' = "\+@everything": Redis 7.0 has no ACL category 'everything'.*Fix: use one of @admin/],
    ['a very long ACL rule', { auth: { clientAclRules: [`+${'a'.repeat(17000)}`] } }, /prop 'auth.clientAclRules' = "\+a{17000}": Redis 7.0 has no command/],
    ['an unknown auth setting', { auth: { password: 'x' } } as any, /prop 'auth.password' = "x": auth has secretName and clientAclRules/],
    ['a master name too long', { masterName: 'm'.repeat(129) }, /prop 'masterName' = "m{129}": .*at most 128 characters/],
    ['a negative cpu', { redisResources: { cpu: { limit: Cpu.units(-1) } } }, /prop 'redisResources.cpu.limit' = "-1": a CPU quantity is a positive, finite number/],
    ['a NaN cpu', { sentinelResources: { cpu: { request: Cpu.millis(NaN) } } }, /prop 'sentinelResources.cpu.request' = "NaNm"/],
    ['an exponent cpu', { redisResources: { cpu: { limit: Cpu.units(1e21) } } }, /prop 'redisResources.cpu.limit' = "1e\+21"/],
    ['a NaN memory', { redisResources: { memory: { limit: Size.mebibytes(NaN) } } }, /prop 'redisResources.memory.limit' = Size\(NaN mebibytes\): cdk8s cannot turn it into whole KiB/],
    ['an unknown resource', { redisResources: { gpu: {} } as any }, /prop 'redisResources.gpu' = \{\}: ContainerResources has cpu, memory and ephemeralStorage/],
    ['max memory at the limit', { maxMemory: Size.mebibytes(512) }, /prop 'maxMemory' = .*headroom below the Redis memory limit \(512Mi\)/],
    ['cpu request above its limit', { redisResources: { cpu: { request: Cpu.units(2), limit: Cpu.millis(500) } } },
      /prop 'redisResources.cpu' = \{"request":"2","limit":"500m"\}: a request above its limit/],
    ['memory request above its limit', { sentinelResources: { memory: { request: Size.gibibytes(1), limit: Size.mebibytes(64) } } },
      /prop 'sentinelResources.memory' = \{"request":"1024Mi","limit":"64Mi"\}/],
  ];
  test.each(bad)('rejects %s', (_what, props, message) => {
    expect(() => resolveSettings(props)).toThrow(RedisSentinelPropError);
    expect(() => resolveSettings(props)).toThrow(message);
  });

  test('accepts a digest-pinned image and a registry with a port and a tag', () => {
    expect(resolveSettings({ image: `redis@sha256:${'a'.repeat(64)}` }).image).toContain('@sha256:');
    expect(resolveSettings({ image: 'registry.local:5000/redis:7.2.5' }).image).toBe('registry.local:5000/redis:7.2.5');
    expect(resolveSettings({ image: 'localhost/team/redis_x:8.6.5-alpine' }).image).toBe('localhost/team/redis_x:8.6.5-alpine');
  });

  test('names the construct whose props are wrong', () => {
    expect(() => resolveSettings({ quorum: 0 }, { construct: 'SentinelService' })).toThrow(/^Invalid SentinelService prop 'quorum'/);
  });

  test('recognises Durations and Sizes of another copy of cdk8s by their shape', () => {
    // An app with its own cdk8s copy passes objects that are not instances of ours.
    const foreignDuration = { toMilliseconds: () => 7000, toHumanString: () => '7s' };
    const foreignSize = { toKibibytes: () => 256 * 1024 };
    const s = resolveSettings({ downAfter: foreignDuration as any, maxMemory: foreignSize as any });
    expect([s.downAfterMs, s.maxMemoryBytes]).toEqual([7000, 256 * 1024 * 1024]);
  });

  test('auth can be turned off, and its rules widened', () => {
    expect(resolveSettings({ auth: false }).auth).toBeUndefined();
    expect(resolveSettings({ auth: { secretName: 'vault.redis', clientAclRules: ['+flushdb', '-keys', '+@scripting', '+client|kill'] } }).auth)
      .toMatchObject({ secretName: 'vault.redis', clientAclRules: ['+flushdb', '-keys', '+@scripting', '+client|kill'] });
  });
});

describe('the Redis command names that clientAclRules may use', () => {
  const { execFileSync, spawn } = require('child_process');
  const have = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };
  (have('redis-server') ? test : test.skip)('are exactly what the installed Redis lists (COMMAND LIST, ACL CAT)', async () => {
    const { REDIS_ACL_CATEGORIES, REDIS_COMMANDS } = require('../src/acl-names');
    const port = String(17000 + Math.floor(Math.random() * 900));
    const server = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      let commands = '';
      for (let i = 0; i < 50 && !commands; i++) {
        await new Promise((r) => setTimeout(r, 100));
        try { commands = execFileSync('redis-cli', ['-p', port, 'COMMAND', 'LIST']).toString(); } catch { /* not up yet */ }
      }
      const categories = execFileSync('redis-cli', ['-p', port, 'ACL', 'CAT']).toString();
      expect([...REDIS_COMMANDS].sort()).toEqual(commands.trim().split('\n').sort());
      expect([...REDIS_ACL_CATEGORIES].sort()).toEqual(categories.trim().split('\n').sort());
    } finally {
      server.kill('SIGKILL');
    }
  });
});
