// Tests of demos/magnum/launch and demos/magnum/teardown. No OpenStack cloud can run here, so
// the scripts run against stand-ins (stubs/openstack, stubs/kubectl, stubs/launch.sh) put first
// on PATH. The stand-ins record every call and simulate the cloud in a temporary directory;
// they never reach the network.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const DEMO_DIR = path.resolve(__dirname, '..');
const STUBS = path.join(__dirname, 'stubs');
const BASH = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

type Script = 'launch' | 'teardown';

interface CloudSeed {
  readonly networks?: Record<string, 'external' | 'internal'>;
  readonly images?: string[];
  readonly keypairs?: string[];
}

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The calls the stand-ins recorded during this run, temp paths shown as $TMP. */
  readonly calls: string[];
}

interface RunOptions {
  /** Environment overrides; undefined removes a variable. */
  readonly env?: Record<string, string | undefined>;
  /** Run the script with this PATH instead of the stand-ins' one. */
  readonly path?: string;
  /** Run the script at this path instead of the demo's own. */
  readonly scriptPath?: string;
  readonly cwd?: string;
}

/** A temporary directory holding the simulated cloud, the call log and the local files. */
class Sandbox {
  public readonly dir: string;
  public readonly state: string;
  private readonly log: string;

  constructor(seed: CloudSeed = {}) {
    this.dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'magnum-demo-')));
    this.state = path.join(this.dir, 'state');
    this.log = path.join(this.dir, 'calls.log');
    fs.writeFileSync(this.log, '');
    fs.mkdirSync(path.join(this.dir, 'dist'));
    const networks = seed.networks ?? { public1: 'external' };
    for (const [name, kind] of Object.entries(networks)) this.put(`networks/${name}`, `${kind}\n`);
    for (const name of seed.images ?? ['fedora-21-atomic-3']) this.put(`images/${name}`, '');
    for (const name of seed.keypairs ?? ['mykey']) this.put(`keypairs/${name}`, '');
  }

  /** Writes a file of the simulated cloud, e.g. put('clusters/testbay/status', ...). */
  public put(file: string, content: string): void {
    const target = path.join(this.state, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }

  /** The template and a cluster made by an earlier run: its status now, and the ones still to come. */
  public existingCluster(status: string, later: string[] = [], reason = ''): void {
    this.put('templates/testbaymodel', 'made earlier\n');
    this.put('clusters/testbay/template', 'testbaymodel\n');
    this.put('clusters/testbay/status', `${status}\n`);
    this.put('clusters/testbay/queue', later.map((s) => `${s}\n`).join(''));
    this.put('clusters/testbay/reason', `${reason}\n`);
  }

  public exists(file: string): boolean {
    return fs.existsSync(path.join(this.state, file));
  }

  public run(script: Script, args: string[] = [], options: RunOptions = {}): Result {
    const before = fs.readFileSync(this.log, 'utf8').length;
    const env: Record<string, string> = {};
    const merged: Record<string, string | undefined> = {
      PATH: options.path ?? `${STUBS}:${process.env.PATH}`,
      HOME: this.dir,
      LANG: 'C',
      OS_CLOUD: 'stub-cloud',
      STUB_LOG: this.log,
      STUB_STATE: this.state,
      MAGNUM_POLL_INTERVAL: '0',
      MAGNUM_KUBECONFIG_DIR: path.join(this.dir, 'kube'),
      REDIS_LAUNCH_SCRIPT: path.join(STUBS, 'launch.sh'),
      REDIS_DIST_DIR: path.join(this.dir, 'dist'),
      ...options.env,
    };
    for (const [key, value] of Object.entries(merged)) if (value !== undefined) env[key] = value;
    const scriptPath = options.scriptPath ?? path.join(DEMO_DIR, script);
    // Through bash by absolute path, so that a PATH without the usual tools still runs it.
    const result = spawnSync(BASH, [scriptPath, ...args], {
      cwd: options.cwd ?? this.dir,
      env,
      encoding: 'utf8',
      input: '',
      timeout: 30_000,
    });
    const calls = fs.readFileSync(this.log, 'utf8').slice(before).split('\n').filter((l) => l !== '');
    return {
      status: result.status,
      stdout: this.tidy(result.stdout),
      stderr: this.tidy(result.stderr),
      calls: calls.map((c) => this.tidy(c)),
    };
  }

  public remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private tidy(text: string): string {
    return text.split(this.dir).join('$TMP').split(STUBS).join('$STUBS');
  }
}

// The calls a first run makes, in order.
const CHECK_CLIENTS = ['openstack help coe cluster create', 'openstack token issue -f value -c expires'];
const CHECK_NETWORK = [
  'openstack network show public1 -f value -c id',
  'openstack network list --external -f value -c ID',
];
const CHECK_KEYPAIR = 'openstack keypair show mykey -f value -c name';
const CHECK_IMAGE = 'openstack image show fedora-21-atomic-3 -f value -c id';
const PREFLIGHT = [...CHECK_CLIENTS, ...CHECK_NETWORK, CHECK_KEYPAIR, CHECK_IMAGE];
const LIST_TEMPLATES = 'openstack coe cluster template list -f value -c name';
const LIST_CLUSTERS = 'openstack coe cluster list -f value -c name -c status';
const CREATE_TEMPLATE =
  'openstack coe cluster template create testbaymodel --coe kubernetes --image fedora-21-atomic-3' +
  ' --keypair mykey --external-network public1 --dns-nameserver 8.8.8.8 --flavor m1.small' +
  ' --master-flavor m1.small --docker-volume-size 5 --network-driver flannel' +
  ' --labels fixed_subnet_cidr=10.0.3.0/24';
const CREATE_CLUSTER =
  'openstack coe cluster create testbay --cluster-template testbaymodel --node-count 2 --master-count 1';
const FETCH_CONFIG = 'openstack coe cluster config testbay --dir $TMP/kube --force';
const RUN_REDIS = 'KUBECONFIG=$TMP/kube/config launch.sh';
const DELETE_REDIS = 'KUBECONFIG=$TMP/kube/config kubectl delete -f $TMP/dist --ignore-not-found';
const DELETE_CLUSTER = 'openstack coe cluster delete testbay';
const DELETE_TEMPLATE = 'openstack coe cluster template delete testbaymodel';
const SHOW_REASON = 'openstack coe cluster show testbay -f value -c status_reason';

const LAUNCH_FLAGS = [
  '--template-name', '--cluster-name', '--kubeconfig-dir', '--poll-interval', '--wait-timeout',
  '--image', '--image-file', '--image-os-distro', '--keypair', '--external-network',
  '--dns-nameserver', '--flavor', '--master-flavor', '--docker-volume-size', '--network-driver',
  '--fixed-subnet-cidr', '--node-count', '--master-count', '--launch-script',
];
const TEARDOWN_FLAGS = [
  '--template-name', '--cluster-name', '--kubeconfig-dir', '--poll-interval', '--wait-timeout',
  '--dist-dir',
];

/**
 * A bin directory with only the named stand-ins and the few tools the scripts and stand-ins need
 * up to the client checks: a PATH on which some client is missing, even where it is installed.
 */
function binWith(sandbox: Sandbox, stubs: string[]): string {
  const bin = path.join(sandbox.dir, 'bin');
  fs.mkdirSync(bin);
  for (const stub of stubs) fs.symlinkSync(path.join(STUBS, stub), path.join(bin, stub));
  for (const tool of ['bash', 'dirname', 'basename', 'mkdir']) {
    const where = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    fs.symlinkSync(where, path.join(bin, tool));
  }
  return bin;
}

/** Copies the demo into <sandbox>/repo, with the launch stand-in at repo/dist/launch/launch.sh. */
function copyDemo(sandbox: Sandbox): string {
  const tree = path.join(sandbox.dir, 'repo');
  const demo = path.join(tree, 'demos/magnum');
  fs.mkdirSync(demo, { recursive: true });
  for (const file of ['launch', 'teardown', 'lib.sh']) fs.copyFileSync(path.join(DEMO_DIR, file), path.join(demo, file));
  fs.mkdirSync(path.join(tree, 'dist/launch'), { recursive: true });
  fs.copyFileSync(path.join(STUBS, 'launch.sh'), path.join(tree, 'dist/launch/launch.sh'));
  return tree;
}

let sandbox: Sandbox;
afterEach(() => sandbox?.remove());

describe('launch', () => {
  test('a first run checks, creates the template and the cluster, waits, fetches the kubeconfig and launches Redis', () => {
    // GIVEN a cloud with the network, image and keypair, and no template or cluster
    sandbox = new Sandbox();

    // WHEN
    const run = sandbox.run('launch');

    // THEN
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      ...PREFLIGHT,
      LIST_TEMPLATES,
      CREATE_TEMPLATE,
      LIST_CLUSTERS,
      CREATE_CLUSTER,
      LIST_CLUSTERS,
      LIST_CLUSTERS,
      FETCH_CONFIG,
      RUN_REDIS,
    ]);
    // (the elapsed time in each status line: [<minutes>m<seconds>s], a second or two on a loaded machine)
    expect(run.stdout).toMatch(/\[0m0[0-9]s\] cluster testbay: CREATE_IN_PROGRESS\n/);
    expect(run.stdout.replace(/\[\d+m\d\ds\]/g, '[elapsed]').split('\n')).toEqual([
      'launch: creating cluster template testbaymodel',
      'launch: creating cluster testbay',
      'launch: waiting for cluster testbay (up to 3600s, polling every 0s)',
      'launch: [elapsed] cluster testbay: CREATE_IN_PROGRESS',
      'launch: [elapsed] cluster testbay: CREATE_COMPLETE',
      'launch: kubeconfig: $TMP/kube/config',
      'launch: running the Redis launch sequence $STUBS/launch.sh',
      'stand-in Redis launch sequence',
      'launch: Redis is up on cluster testbay; use it with: export KUBECONFIG=$TMP/kube/config',
      '',
    ]);
    expect(fs.readFileSync(path.join(sandbox.dir, 'kube/config'), 'utf8')).toBe(
      '# stand-in kubeconfig for cluster testbay\n',
    );
    expect(fs.statSync(path.join(sandbox.dir, 'kube')).mode & 0o777).toBe(0o700);
  });

  test('a second run creates nothing', () => {
    // GIVEN a first run has created everything
    sandbox = new Sandbox();
    expect(sandbox.run('launch').status).toBe(0);

    // WHEN
    const run = sandbox.run('launch');

    // THEN
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      ...PREFLIGHT,
      LIST_TEMPLATES,
      LIST_CLUSTERS,
      LIST_CLUSTERS,
      FETCH_CONFIG,
      RUN_REDIS,
    ]);
    expect(run.calls.filter((c) => / create /.test(c))).toEqual([]);
    expect(run.stdout).toContain(
      'launch: cluster template testbaymodel already exists, not creating it (teardown deletes it, to change its settings)\n',
    );
    expect(run.stdout).toContain('launch: cluster testbay already exists (CREATE_COMPLETE), not creating it\n');
  });

  test('a cluster still being created is waited for, not created again', () => {
    // GIVEN the template and a cluster that will be complete at the third look
    sandbox = new Sandbox();
    sandbox.existingCluster('CREATE_IN_PROGRESS', ['CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);

    // WHEN
    const run = sandbox.run('launch');

    // THEN
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      ...PREFLIGHT,
      LIST_TEMPLATES,
      LIST_CLUSTERS,
      LIST_CLUSTERS,
      LIST_CLUSTERS,
      LIST_CLUSTERS,
      FETCH_CONFIG,
      RUN_REDIS,
    ]);
    expect(run.stdout.match(/\] cluster testbay: \w+/g)).toEqual([
      '] cluster testbay: CREATE_IN_PROGRESS',
      '] cluster testbay: CREATE_IN_PROGRESS',
      '] cluster testbay: CREATE_COMPLETE',
    ]);
  });

  test('the defaults are the seed\'s values and the repository paths are found from the script\'s own location', () => {
    // GIVEN a copy of the demo in another tree, with a launch sequence at <tree>/dist/launch/launch.sh
    sandbox = new Sandbox();
    const tree = copyDemo(sandbox);

    // WHEN it runs from another directory with no settings at all
    const run = sandbox.run('launch', [], {
      scriptPath: path.join(tree, 'demos/magnum/launch'),
      cwd: sandbox.state,
      env: {
        REDIS_LAUNCH_SCRIPT: undefined,
        MAGNUM_KUBECONFIG_DIR: undefined,
        MAGNUM_POLL_INTERVAL: undefined,
        STUB_CREATE_STATUSES: 'CREATE_COMPLETE',
      },
    });

    // THEN the defaults go to Magnum and the paths are in the tree of the script
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      ...PREFLIGHT,
      LIST_TEMPLATES,
      CREATE_TEMPLATE,
      LIST_CLUSTERS,
      CREATE_CLUSTER,
      LIST_CLUSTERS,
      'openstack coe cluster config testbay --dir $TMP/repo/demos/magnum/.kube/testbay --force',
      'KUBECONFIG=$TMP/repo/demos/magnum/.kube/testbay/config launch.sh',
    ]);
    expect(run.stdout).toContain('(up to 3600s, polling every 10s)');
  });

  test('every setting can be changed by an environment variable, and a flag beats the variable', () => {
    // GIVEN another cloud's names
    sandbox = new Sandbox({ networks: { ext: 'external' }, images: ['fcos-38'], keypairs: ['demo-key'] });

    // WHEN some settings come from the environment and some from flags
    const run = sandbox.run(
      'launch',
      [
        '--template-name', 'tpl', '--cluster-name=k8s', '--image', 'fcos-38', '--keypair', 'demo-key',
        '--flavor', 'ds2G', '--docker-volume-size', '10', '--node-count', '3',
      ],
      {
        env: {
          MAGNUM_TEMPLATE_NAME: 'loses-to-the-flag',
          MAGNUM_EXTERNAL_NETWORK: 'ext',
          MAGNUM_DNS_NAMESERVER: '1.1.1.1',
          MAGNUM_MASTER_FLAVOR: 'ds4G',
          MAGNUM_NETWORK_DRIVER: 'calico',
          MAGNUM_FIXED_SUBNET_CIDR: '',
          MAGNUM_MASTER_COUNT: '3',
        },
      },
    );

    // THEN
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.calls.filter((c) => / create /.test(c) || / config /.test(c))).toEqual([
      'openstack coe cluster template create tpl --coe kubernetes --image fcos-38 --keypair demo-key' +
        ' --external-network ext --dns-nameserver 1.1.1.1 --flavor ds2G --master-flavor ds4G' +
        ' --docker-volume-size 10 --network-driver calico',
      'openstack coe cluster create k8s --cluster-template tpl --node-count 3 --master-count 3',
      'openstack coe cluster config k8s --dir $TMP/kube --force',
    ]);
    expect(run.calls.slice(2, 6)).toEqual([
      'openstack network show ext -f value -c id',
      'openstack network list --external -f value -c ID',
      'openstack keypair show demo-key -f value -c name',
      'openstack image show fcos-38 -f value -c id',
    ]);
  });

  test('a missing external network stops the run before anything is created, saying Magnum depends on Neutron', () => {
    // GIVEN no network called public1
    sandbox = new Sandbox({ networks: {} });

    // WHEN
    const run = sandbox.run('launch');

    // THEN
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([...CHECK_CLIENTS, 'openstack network show public1 -f value -c id']);
    expect(run.stderr).toBe(
      'Error while executing command: No Network found for public1\n' +
        "launch: error: external network 'public1' not found. Magnum depends on Neutron: it needs a Neutron" +
        " external network (router:external) for the cluster's floating IPs and router. Pass" +
        ' --external-network, or create one (openstack network create --external ...)\n',
    );
    expect(run.stdout).toBe('');
    expect(sandbox.exists('templates/testbaymodel')).toBe(false);
  });

  test('a network that is not external stops the run before anything is created', () => {
    // GIVEN public1 exists but is an internal network
    sandbox = new Sandbox({ networks: { public1: 'internal' } });

    // WHEN
    const run = sandbox.run('launch');

    // THEN
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([...CHECK_CLIENTS, ...CHECK_NETWORK]);
    expect(run.stderr).toBe(
      "launch: error: network 'public1' exists but is not external (router:external is False). Magnum" +
        " depends on Neutron: it needs an external network for the cluster's floating IPs and router." +
        ' Pass --external-network, or mark it external (openstack network set --external public1)\n',
    );
    expect(sandbox.exists('templates/testbaymodel')).toBe(false);
  });

  test('CREATE_FAILED exits non-zero with the reason, and Redis is not launched', () => {
    // GIVEN Magnum will fail the cluster
    sandbox = new Sandbox();

    // WHEN
    const run = sandbox.run('launch', [], {
      env: {
        STUB_CREATE_STATUSES: 'CREATE_IN_PROGRESS CREATE_FAILED',
        STUB_STATUS_REASON: 'Resource CREATE failed: ResourceInError: resources.kube_masters: Quota exceeded for cores',
      },
    });

    // THEN
    expect(run.status).toBe(1);
    expect(run.calls.slice(-4)).toEqual([CREATE_CLUSTER, LIST_CLUSTERS, LIST_CLUSTERS, SHOW_REASON]);
    expect(run.stdout).toMatch(/\[0m0[0-9]s\] cluster testbay: CREATE_FAILED\n$/);
    expect(run.stderr).toBe(
      'launch: error: cluster testbay is CREATE_FAILED: Resource CREATE failed: ResourceInError:' +
        ' resources.kube_masters: Quota exceeded for cores\n' +
        '  more detail: openstack coe cluster show testbay -c faults\n',
    );
  });

  test('a cluster left in CREATE_FAILED by an earlier run is reported, not waited for', () => {
    // GIVEN
    sandbox = new Sandbox();
    sandbox.existingCluster('CREATE_FAILED', [], 'Timed out');

    // WHEN
    const run = sandbox.run('launch');

    // THEN
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([...PREFLIGHT, LIST_TEMPLATES, LIST_CLUSTERS, LIST_CLUSTERS, SHOW_REASON]);
    expect(run.stderr).toContain('launch: error: cluster testbay is CREATE_FAILED: Timed out\n');
  });

  test('the wait gives up after the timeout', () => {
    // GIVEN a cluster that never completes
    sandbox = new Sandbox();

    // WHEN
    const run = sandbox.run('launch', ['--wait-timeout', '0'], {
      env: { STUB_CREATE_STATUSES: 'CREATE_IN_PROGRESS' },
    });

    // THEN
    expect(run.status).toBe(1);
    expect(run.calls.slice(-2)).toEqual([CREATE_CLUSTER, LIST_CLUSTERS]);
    expect(run.stderr).toBe(
      'launch: error: timed out after 0s waiting for cluster testbay (still CREATE_IN_PROGRESS); raise' +
        ' --wait-timeout (MAGNUM_WAIT_TIMEOUT) to wait longer\n',
    );
  });

  test('a failing Redis launch sequence fails the run with its exit code', () => {
    sandbox = new Sandbox();
    const run = sandbox.run('launch', [], { env: { STUB_LAUNCH_EXIT: '3' } });
    expect(run.status).toBe(3);
    expect(run.calls.slice(-1)).toEqual([RUN_REDIS]);
    expect(run.stderr).toBe('launch: error: the Redis launch sequence failed (exit 3)\n');
  });

  describe('the image', () => {
    test('a missing image with no file to upload stops the run before anything is created', () => {
      sandbox = new Sandbox({ images: [] });
      const run = sandbox.run('launch');
      expect(run.status).toBe(1);
      expect(run.calls).toEqual(PREFLIGHT);
      expect(run.stderr).toBe(
        "launch: error: image 'fedora-21-atomic-3' not found; pass --image-file to upload it, or --image to use another\n",
      );
    });

    test('a missing image is uploaded from --image-file, with its os_distro, before the template', () => {
      sandbox = new Sandbox({ images: [] });
      const file = path.join(sandbox.dir, 'fcos.qcow2');
      fs.writeFileSync(file, 'not really an image');
      const run = sandbox.run('launch', ['--image-file', file, '--image-os-distro', 'fedora-coreos']);
      expect(run.status).toBe(0);
      expect(run.calls.slice(PREFLIGHT.length, PREFLIGHT.length + 3)).toEqual([
        'openstack image create --disk-format qcow2 --container-format bare --file $TMP/fcos.qcow2' +
          ' --property os_distro=fedora-coreos fedora-21-atomic-3',
        LIST_TEMPLATES,
        CREATE_TEMPLATE,
      ]);
      expect(run.stdout).toContain('launch: uploading $TMP/fcos.qcow2 as image fedora-21-atomic-3\n');
    });

    test('an image that exists is not uploaded again', () => {
      sandbox = new Sandbox();
      const file = path.join(sandbox.dir, 'fcos.qcow2');
      fs.writeFileSync(file, 'not really an image');
      const run = sandbox.run('launch', [], { env: { MAGNUM_IMAGE_FILE: file } });
      expect(run.status).toBe(0);
      expect(run.calls.filter((c) => c.startsWith('openstack image create'))).toEqual([]);
    });
  });

  test('a missing keypair stops the run before anything is created', () => {
    sandbox = new Sandbox({ keypairs: [] });
    const run = sandbox.run('launch');
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([...CHECK_CLIENTS, ...CHECK_NETWORK, CHECK_KEYPAIR]);
    expect(run.stderr).toBe(
      "No keypair with a name or ID of 'mykey' exists.\n" +
        "launch: error: keypair 'mykey' not found; create it (openstack keypair create --public-key" +
        ' ~/.ssh/id_rsa.pub mykey) or pass --keypair\n',
    );
  });

  describe('the clients and credentials are checked before the cloud is touched', () => {
    test('no openstack CLI', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', [], { path: binWith(sandbox, ['kubectl']) });
      expect(run.status).toBe(1);
      expect(run.calls).toEqual([]);
      expect(run.stderr).toBe(
        'launch: error: the openstack CLI is not on PATH; install it with: pip install python-openstackclient' +
          ' python-magnumclient\n',
      );
    });

    test('no coe plugin', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', [], { env: { STUB_COE: 'missing' } });
      expect(run.status).toBe(1);
      expect(run.calls).toEqual(['openstack help coe cluster create']);
      expect(run.stderr).toBe(
        "launch: error: the openstack CLI has no 'coe' commands; install Magnum's plugin with: pip install" +
          ' python-magnumclient\n',
      );
    });

    test('no kubectl', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', [], { path: binWith(sandbox, ['openstack']) });
      expect(run.status).toBe(1);
      expect(run.calls).toEqual(['openstack help coe cluster create']);
      expect(run.stderr).toBe('launch: error: kubectl is not on PATH; install it (https://kubernetes.io/docs/tasks/tools/)\n');
    });

    test('no credentials', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', [], { env: { OS_CLOUD: undefined } });
      expect(run.status).toBe(1);
      expect(run.calls).toEqual(['openstack help coe cluster create']);
      expect(run.stderr).toBe(
        'launch: error: no OpenStack credentials: set OS_CLOUD to a cloud in clouds.yaml, or source an openrc' +
          ' file (OS_AUTH_URL, OS_USERNAME, ...)\n',
      );
    });

    test('OS_* variables are credentials too', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', [], { env: { OS_CLOUD: undefined, OS_AUTH_URL: 'https://keystone.invalid/v3' } });
      expect(run.status).toBe(0);
    });

    test('credentials Keystone rejects', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', [], { env: { STUB_AUTH: 'fail' } });
      expect(run.status).toBe(1);
      expect(run.calls).toEqual(CHECK_CLIENTS);
      expect(run.stderr).toBe(
        'The request you have made requires authentication. (HTTP 401)\n' +
          "launch: error: OpenStack did not accept the credentials ('openstack token issue' failed; see above)\n",
      );
    });

    test('no Redis launch script', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', ['--launch-script', path.join(sandbox.dir, 'nope.sh')]);
      expect(run.status).toBe(1);
      expect(run.calls).toEqual([]);
      expect(run.stderr).toBe(
        "launch: error: no Redis launch script at $TMP/nope.sh; run 'npm run synth' at the repository root," +
          ' or pass --launch-script\n',
      );
    });

    test('a Redis launch script that is not executable', () => {
      sandbox = new Sandbox();
      const script = path.join(sandbox.dir, 'launch.sh');
      fs.writeFileSync(script, '#!/bin/sh\n', { mode: 0o644 });
      const run = sandbox.run('launch', [], { env: { REDIS_LAUNCH_SCRIPT: script } });
      expect(run.status).toBe(1);
      expect(run.calls).toEqual([]);
      expect(run.stderr).toBe('launch: error: the Redis launch script $TMP/launch.sh is not executable\n');
    });
  });

  describe('bad input gives the usage, exit 2, and touches nothing', () => {
    test.each([
      [['--bogus', 'x'], {}, 'unknown option: --bogus'],
      [['--node-count'], {}, 'option --node-count needs a value'],
      [['extra'], {}, 'unexpected argument: extra'],
      [['--image', ''], {}, '--image (MAGNUM_IMAGE) is required and is empty'],
      [[], { MAGNUM_KEYPAIR: '' }, '--keypair (MAGNUM_KEYPAIR) is required and is empty'],
      [['--node-count', '0'], {}, "--node-count (MAGNUM_NODE_COUNT) must be a whole number of at least 1; got '0'"],
      [['--docker-volume-size=5G'], {}, "--docker-volume-size (MAGNUM_DOCKER_VOLUME_SIZE) must be a whole number of at least 1; got '5G'"],
      [['--cluster-name', 'my bay'], {}, "--cluster-name (MAGNUM_CLUSTER_NAME) must start with a letter and hold only letters, digits, '_', '.' and '-'; got 'my bay'"],
      [['--wait-timeout', '1h'], {}, "--wait-timeout (MAGNUM_WAIT_TIMEOUT) must be a whole number of seconds; got '1h'"],
      [['--poll-interval', 'fast'], {}, "--poll-interval (MAGNUM_POLL_INTERVAL) must be a number of seconds; got 'fast'"],
      [['--image-file', '/nonexistent/fcos.qcow2'], {}, '--image-file (MAGNUM_IMAGE_FILE): no such file: /nonexistent/fcos.qcow2'],
    ])('%j %j', (args, env, message) => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', args, { env });
      expect(run.status).toBe(2);
      expect(run.calls).toEqual([]);
      expect(run.stdout).toBe('');
      expect(run.stderr.split('\n').slice(0, 3)).toEqual([`launch: ${message}`, '', 'usage: launch [options]']);
    });

    test('--help shows every setting with its variable and default, and exits 0', () => {
      sandbox = new Sandbox();
      const run = sandbox.run('launch', ['--help']);
      expect(run.status).toBe(0);
      expect(run.calls).toEqual([]);
      expect(run.stdout.match(/^ {2}--[a-z-]+/gm)).toEqual(LAUNCH_FLAGS.map((f) => `  ${f}`));
      expect(run.stdout).toContain('[MAGNUM_EXTERNAL_NETWORK, default public1]');
      expect(run.stdout).toContain('[REDIS_LAUNCH_SCRIPT, default ');
    });
  });
});

describe('teardown', () => {
  test('deletes the Redis objects, then the cluster, waiting until it is gone, then the template', () => {
    // GIVEN everything launch creates
    sandbox = new Sandbox();
    expect(sandbox.run('launch').status).toBe(0);

    // WHEN
    const run = sandbox.run('teardown');

    // THEN
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      ...CHECK_CLIENTS,
      LIST_CLUSTERS,
      FETCH_CONFIG,
      DELETE_REDIS,
      DELETE_CLUSTER,
      LIST_CLUSTERS,
      LIST_CLUSTERS,
      LIST_TEMPLATES,
      DELETE_TEMPLATE,
    ]);
    expect(run.stdout).toMatch(/cluster testbay: DELETE_IN_PROGRESS\n.*cluster testbay: gone\n/);
    expect(sandbox.exists('clusters/testbay')).toBe(false);
    expect(sandbox.exists('templates/testbaymodel')).toBe(false);
    expect(fs.existsSync(path.join(sandbox.dir, 'kube'))).toBe(false);
  });

  test('waits as long as the deletion takes', () => {
    sandbox = new Sandbox();
    expect(sandbox.run('launch').status).toBe(0);
    const run = sandbox.run('teardown', [], {
      env: { STUB_DELETE_STATUSES: 'DELETE_IN_PROGRESS DELETE_IN_PROGRESS DELETE_IN_PROGRESS GONE' },
    });
    expect(run.status).toBe(0);
    expect(run.calls.slice(5)).toEqual([
      DELETE_CLUSTER, LIST_CLUSTERS, LIST_CLUSTERS, LIST_CLUSTERS, LIST_CLUSTERS, LIST_TEMPLATES, DELETE_TEMPLATE,
    ]);
  });

  test('a second run deletes nothing', () => {
    sandbox = new Sandbox();
    expect(sandbox.run('launch').status).toBe(0);
    expect(sandbox.run('teardown').status).toBe(0);

    const run = sandbox.run('teardown');

    expect(run.status).toBe(0);
    expect(run.calls).toEqual([...CHECK_CLIENTS, LIST_CLUSTERS, LIST_TEMPLATES]);
    expect(run.stdout).toBe(
      'teardown: cluster testbay does not exist, nothing to delete on it\n' +
        'teardown: cluster template testbaymodel does not exist, nothing to delete\n' +
        'teardown: done\n',
    );
  });

  test('a failed cluster is deleted without touching Redis', () => {
    sandbox = new Sandbox();
    expect(sandbox.run('launch', [], { env: { STUB_CREATE_STATUSES: 'CREATE_FAILED' } }).status).toBe(1);

    const run = sandbox.run('teardown');

    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      ...CHECK_CLIENTS, LIST_CLUSTERS, DELETE_CLUSTER, LIST_CLUSTERS, LIST_CLUSTERS, LIST_TEMPLATES, DELETE_TEMPLATE,
    ]);
    expect(run.stdout).toContain(
      'teardown: cluster testbay is CREATE_FAILED, so Redis cannot be running on it; skipping the Redis objects\n',
    );
  });

  test('a kubectl failure is a warning: the objects go with the cluster', () => {
    sandbox = new Sandbox();
    expect(sandbox.run('launch').status).toBe(0);
    const run = sandbox.run('teardown', [], { env: { STUB_KUBECTL_EXIT: '1' } });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('teardown: warning: could not delete the Redis objects; they go with the cluster\n');
    expect(run.calls.slice(4, 6)).toEqual([DELETE_REDIS, DELETE_CLUSTER]);
    expect(sandbox.exists('templates/testbaymodel')).toBe(false);
  });

  test('DELETE_FAILED exits non-zero with the reason and keeps the template', () => {
    sandbox = new Sandbox();
    expect(sandbox.run('launch').status).toBe(0);
    sandbox.put('clusters/testbay/reason', 'Stack DELETE failed: port in use\n');
    const run = sandbox.run('teardown', [], { env: { STUB_DELETE_STATUSES: 'DELETE_IN_PROGRESS DELETE_FAILED' } });
    expect(run.status).toBe(1);
    expect(run.calls.slice(-4)).toEqual([DELETE_CLUSTER, LIST_CLUSTERS, LIST_CLUSTERS, SHOW_REASON]);
    expect(run.stderr).toBe(
      'teardown: error: cluster testbay is DELETE_FAILED: Stack DELETE failed: port in use\n' +
        '  more detail: openstack coe cluster show testbay -c faults\n',
    );
    expect(sandbox.exists('templates/testbaymodel')).toBe(true);
  });

  test('a cluster already being deleted is waited for, not deleted again', () => {
    sandbox = new Sandbox();
    sandbox.existingCluster('DELETE_IN_PROGRESS', ['DELETE_IN_PROGRESS', 'GONE']);
    const run = sandbox.run('teardown');
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([...CHECK_CLIENTS, LIST_CLUSTERS, LIST_CLUSTERS, LIST_CLUSTERS, LIST_TEMPLATES, DELETE_TEMPLATE]);
  });

  test('a missing manifest directory stops it before the cloud is touched', () => {
    sandbox = new Sandbox();
    const run = sandbox.run('teardown', ['--dist-dir', path.join(sandbox.dir, 'nodist')]);
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toBe(
      "teardown: error: no manifest directory at $TMP/nodist; run 'npm run synth' at the repository root, or pass --dist-dir\n",
    );
  });

  test('the manifest and kubeconfig directories default to <repository>/dist and demos/magnum/.kube/<cluster>', () => {
    // GIVEN a copy of the demo in another tree, launched with its defaults
    sandbox = new Sandbox();
    const tree = copyDemo(sandbox);
    const defaults = { REDIS_LAUNCH_SCRIPT: undefined, MAGNUM_KUBECONFIG_DIR: undefined, REDIS_DIST_DIR: undefined };
    expect(sandbox.run('launch', [], { scriptPath: path.join(tree, 'demos/magnum/launch'), env: defaults }).status).toBe(0);
    expect(fs.existsSync(path.join(tree, 'demos/magnum/.kube/testbay/config'))).toBe(true);

    // WHEN
    const run = sandbox.run('teardown', [], {
      scriptPath: path.join(tree, 'demos/magnum/teardown'),
      cwd: sandbox.state,
      env: defaults,
    });

    // THEN
    expect(run.status).toBe(0);
    expect(run.calls.slice(3, 5)).toEqual([
      'openstack coe cluster config testbay --dir $TMP/repo/demos/magnum/.kube/testbay --force',
      'KUBECONFIG=$TMP/repo/demos/magnum/.kube/testbay/config kubectl delete -f $TMP/repo/dist --ignore-not-found',
    ]);
    expect(fs.existsSync(path.join(tree, 'demos/magnum/.kube/testbay'))).toBe(false);
  });

  test('bad input gives the usage, exit 2, and touches nothing', () => {
    sandbox = new Sandbox();
    const run = sandbox.run('teardown', ['--image', 'x']);
    expect(run.status).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stderr.split('\n').slice(0, 3)).toEqual(['teardown: unknown option: --image', '', 'usage: teardown [options]']);
  });

  test('--help shows every setting', () => {
    sandbox = new Sandbox();
    const run = sandbox.run('teardown', ['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout.match(/^ {2}--[a-z-]+/gm)).toEqual(TEARDOWN_FLAGS.map((f) => `  ${f}`));
  });
});

describe('the demo files', () => {
  test('the scripts and the bash stand-ins are shellcheck-clean', () => {
    const files = ['launch', 'teardown', 'lib.sh', '__tests__/stubs/openstack', '__tests__/stubs/kubectl', '__tests__/stubs/launch.sh'];
    const run = spawnSync('shellcheck', files, { cwd: DEMO_DIR, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.stdout).toBe('');
    expect(run.status).toBe(0);
  });

  test('the scripts are executable', () => {
    for (const file of ['launch', 'teardown']) {
      expect(fs.statSync(path.join(DEMO_DIR, file)).mode & 0o111).toBe(0o111);
    }
  });

  test('the README documents every flag and its variable', () => {
    const readme = fs.readFileSync(path.join(DEMO_DIR, 'README.md'), 'utf8');
    sandbox = new Sandbox();
    for (const script of ['launch', 'teardown'] as const) {
      const help = sandbox.run(script, ['--help']).stdout;
      const documented = help.match(/^ {2}--[a-z-]+ VALUE[^\n]*\n\s+\[[A-Z_]+/gm) ?? [];
      expect(documented.length).toBe((script === 'launch' ? LAUNCH_FLAGS : TEARDOWN_FLAGS).length);
      for (const entry of documented) {
        const [flag] = entry.trim().split(' ');
        const variable = entry.slice(entry.lastIndexOf('[') + 1);
        expect(readme).toContain(`\`${flag}\``);
        expect(readme).toContain(`\`${variable}\``);
      }
    }
  });
});
