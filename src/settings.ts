// Props in, settings out: every default and every rule on props lives here, once. Nothing downstream
// re-checks or re-defaults a prop. Props come from TypeScript and from plain JavaScript alike, so
// every value's type is checked at run time, and values from cdk8s (Duration, Size, Cpu) are
// recognised by their shape, not by `instanceof` against this package's own copy of cdk8s.
import { Chart } from 'cdk8s';
import { REDIS_ACL_CATEGORIES, REDIS_COMMANDS } from './acl-names';
import type { IConstruct } from 'constructs';
import { PodAntiAffinity, SentinelPlacement, VolumeRetention } from './props';
import type { PodToleration, RedisSentinelProps, RedisSentinelStatefulSetProps } from './props';

/** The objects' names, derived from the instance name. */
export interface ResolvedNames {
  readonly instance: string;
  readonly configMap: string;
  /** The bootstrap pod (the seed's `redis-master`): the first master and first sentinel. */
  readonly bootstrapPod: string;
  readonly sentinelService: string;
  /**
   * The headless Service `<name>-headless` over the Redis pods (ready or not): its DNS name lists
   * every Redis pod, so pods and sentinels can find each other when no sentinel answers.
   */
  readonly headlessService: string;
  readonly redisController: string;
  readonly sentinelController: string;
  /** The NetworkPolicy over every pod of the instance. */
  readonly networkPolicy: string;
  /** The PodDisruptionBudgets of the Redis pods and of the sentinels. */
  readonly redisDisruptionBudget: string;
  readonly sentinelDisruptionBudget: string;
}

/** Kubernetes labels, or a label selector's matchLabels. */
export type Labels = Readonly<Record<string, string>>;

/** What an object is part of, in the `app.kubernetes.io/component` label. */
export type Component = 'config' | 'bootstrap' | 'redis' | 'sentinel' | 'network';

/** Labels and selectors, derived from the instance name (the seed's for `redis`). */
export interface ResolvedLabels {
  /** `name: <instance>`: the redis controller's selector; the bootstrap pod carries it too. */
  readonly redisSelector: Labels;
  /** `<instance>-sentinel: "true"`: the sentinel controller's and Service's selector. */
  readonly sentinelSelector: Labels;
  /** Every pod of the instance, Redis and sentinels: the NetworkPolicy's and a peer's selector. */
  readonly instanceSelector: Labels;
  /** `<instance>-client: "true"`: pods in the namespace that the NetworkPolicy lets in as clients. */
  readonly clientSelector: Labels;
  /** The Kubernetes recommended labels (`app.kubernetes.io/*`) of an object of each component. */
  readonly recommended: Readonly<Record<Component, Labels>>;
  /** Pod and Service labels: the seed's plus the recommended ones. */
  readonly bootstrapPod: Labels;
  readonly redisPod: Labels;
  readonly sentinelPod: Labels;
  readonly sentinelService: Labels;
}

/** Resource requirements in Kubernetes quantities. */
export interface ResolvedResources {
  readonly limits: Readonly<Record<string, string>>;
  readonly requests: Readonly<Record<string, string>>;
}

/** The containers' names (the seed's), which the launch script also uses for `kubectl exec -c`. */
export interface ResolvedContainers {
  /** The bootstrap pod's Redis: `master`. */
  readonly bootstrapRedis: string;
  /** The redis controller's Redis: `redis`. */
  readonly redis: string;
  /** Every sentinel container: `sentinel`. */
  readonly sentinel: string;
}

/** The users, each with its own password. */
export type AuthUser = 'client' | 'replication' | 'sentinel' | 'admin';

/** Authentication, when it is on. */
export interface ResolvedAuth {
  /** The Secret with one password per user. */
  readonly secretName: string;
  /**
   * The Secret's key of each user's password. A key `<key>-<suffix>` adds a second password that
   * the servers accept, for rotation.
   */
  readonly secretKeys: Readonly<Record<AuthUser, string>>;
  /** ACL rules appended to the client user's. */
  readonly clientAclRules: readonly string[];
}

/** Which composite the settings are for: the rules on replicas and quorum differ. */
export type Topology = 'classic' | 'statefulset';

/** The StatefulSet topology's own settings. */
export interface ResolvedStatefulSet {
  readonly sentinelPlacement: SentinelPlacement;
  /** Each Redis pod's volume, a Kubernetes quantity. */
  readonly storageSize: string;
  readonly storageClassName?: string;
  readonly volumesWhenDeleted: VolumeRetention;
  readonly volumesWhenScaled: VolumeRetention;
  readonly podAntiAffinity: PodAntiAffinity;
  readonly spreadOverZones: boolean;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations: readonly PodToleration[];
  readonly priorityClassName?: string;
  /** The master hands back to ordinal 0 when it is elsewhere (the masterOnFirstPod prop). */
  readonly masterOnFirstPod: boolean;
  /** The Redis StatefulSet's and (placement STATEFUL_SET) the sentinels' StatefulSet's names. */
  readonly redisStatefulSet: string;
  readonly sentinelStatefulSet: string;
  /** Selectors of the Redis pods and of the sentinel pods (the same with sidecars). */
  readonly redisPodSelector: Labels;
  readonly sentinelPodSelector: Labels;
}

/** Props resolved: every default applied and every rule checked, once. */
export interface RedisSentinelSettings {
  readonly topology: Topology;
  readonly names: ResolvedNames;
  readonly labels: ResolvedLabels;
  readonly containers: ResolvedContainers;
  readonly namespace?: string;
  readonly image: string;
  readonly redisReplicas: number;
  readonly sentinelReplicas: number;
  readonly masterName: string;
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly parallelSyncs: number;
  readonly minReplicasToWrite: number;
  readonly redisResources: ResolvedResources;
  readonly sentinelResources: ResolvedResources;
  /** Redis' `maxmemory`, in bytes. */
  readonly maxMemoryBytes: number;
  readonly discoveryTimeoutSeconds: number;
  readonly redisPort: number;
  readonly sentinelPort: number;
  /** Authentication; undefined when `auth: false`. */
  readonly auth?: ResolvedAuth;
  readonly networkPolicy: boolean;
  /** The StatefulSet topology's settings; undefined for the classic one. */
  readonly statefulSet?: ResolvedStatefulSet;
  /** Paths inside the containers. */
  readonly paths: {
    readonly configDir: string;
    readonly dataDir: string;
    readonly sentinelStateDir: string;
    /** The auth Secret's files (read-only). */
    readonly authDir: string;
    /** Files the entry scripts write at start for the servers (an emptyDir in memory). */
    readonly runDir: string;
  };
}

/** How `resolveSettings` is called: by which construct, and in which chart. */
export interface ResolveOptions {
  /** The construct whose props these are, for error messages. @default 'RedisSentinel' */
  readonly construct?: string;
  /** Props that this construct takes besides `RedisSentinelProps`, checked by the construct itself. */
  readonly extraProps?: readonly string[];
  /** The namespace of the chart the construct is in, used when the `namespace` prop is unset. */
  readonly chartNamespace?: string;
  /** Which composite's rules apply. @default 'classic' */
  readonly topology?: Topology;
}

export const DEFAULTS = {
  name: 'redis',
  // At or above the fixes for CVE-2025-49844 (and CVE-2025-46817/-46818/-46819) and CVE-2026-12087;
  // README "Security" says where the version comes from and how to pin another.
  image: 'redis:8.6.5',
  redisReplicas: 3,
  sentinelReplicas: 3,
  masterName: 'mymaster',
  quorum: 2,
  downAfterMs: 5000,
  failoverTimeoutMs: 15000,
  parallelSyncs: 1,
  minReplicasToWrite: 1,
  discoveryTimeoutMs: 120_000,
  redisPort: 6379,
  sentinelPort: 26379,
  /** The share of the Redis memory limit that `maxmemory` takes by default (README "Resources"). */
  maxMemoryFraction: 0.6,
} as const;

/** Default resources: the seed's CPU limit of 1 on Redis, and memory on every container. */
const DEFAULT_RESOURCES: Readonly<Record<'redisResources' | 'sentinelResources', ResolvedResources>> = {
  redisResources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  sentinelResources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '64Mi' } },
};

/** The seed's data path; the entry scripts and the config files are mounted beside it. */
const PATHS = {
  configDir: '/etc/redis-sentinel',
  dataDir: '/redis-master-data',
  sentinelStateDir: '/var/lib/redis-sentinel',
  authDir: '/etc/redis-sentinel-auth',
  runDir: '/run/redis-sentinel',
} as const;

/** The auth Secret's key of each user's password (README "Security"). */
const AUTH_SECRET_KEYS: Readonly<Record<AuthUser, string>> = {
  client: 'client-password',
  replication: 'replication-password',
  sentinel: 'sentinel-password',
  admin: 'admin-password',
};

/** The seed's container names. */
const CONTAINERS: ResolvedContainers = { bootstrapRedis: 'master', redis: 'redis', sentinel: 'sentinel' };

/** Every prop `RedisSentinelProps` has, and what kind of value it takes. */
const PROP_KINDS: Readonly<Record<keyof RedisSentinelProps, string>> = {
  name: 'a string', namespace: 'a string', image: 'a string', redisReplicas: 'a number', sentinelReplicas: 'a number',
  masterName: 'a string', quorum: 'a number', downAfter: 'a cdk8s Duration', failoverTimeout: 'a cdk8s Duration',
  parallelSyncs: 'a number', minReplicasToWrite: 'a number', redisResources: 'a cdk8s-plus ContainerResources',
  sentinelResources: 'a cdk8s-plus ContainerResources', maxMemory: 'a cdk8s Size', auth: 'false or an object',
  networkPolicy: 'a boolean', discoveryTimeout: 'a cdk8s Duration', redisPort: 'a number', sentinelPort: 'a number',
};

const INT32_MAX = 2 ** 31 - 1;
/** Ports below 1024 need a capability that the containers drop. */
const MIN_PORT = 1024;
const SENTINEL_SUFFIX = '-sentinel';
const HEADLESS_SUFFIX = '-headless';
const CLIENT_SUFFIX = '-client';
const MAX_NAME = 63;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MASTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_MASTER_NAME = 128;
/** An ACL rule that adds or removes a command, a subcommand or a category. */
const ACL_RULE = /^[+-]@?[a-z][a-z0-9_-]*(\|[a-z][a-z0-9_-]*)?$/;
const MAX_ACL_RULES = 64;

/**
 * A prop that breaks the rules: the message names the construct and the prop, shows the value and
 * says the fix.
 */
export class RedisSentinelPropError extends Error {
  constructor(prop: string, value: unknown, problem: string, fix: string, construct = 'RedisSentinel') {
    super(`Invalid ${construct} prop '${prop}' = ${show(value)}: ${problem}. Fix: ${fix}.`);
    this.name = 'RedisSentinelPropError';
  }
}

/** Resolves props into settings: applies the defaults and rejects every bad value. */
export function resolveSettings(props: RedisSentinelProps = {}, options: ResolveOptions = {}): RedisSentinelSettings {
  const construct = options.construct ?? 'RedisSentinel';
  const fail = (prop: string, value: unknown, problem: string, fix: string): never => {
    throw new RedisSentinelPropError(prop, value, problem, fix, construct);
  };
  checkShape(props, options.extraProps ?? [], fail);
  const p = props as Record<keyof RedisSentinelProps, unknown>;

  const instance = string(p.name, DEFAULTS.name, 'name', fail);
  const nameMax = MAX_NAME - SENTINEL_SUFFIX.length;
  if (!DNS_1035_LABEL.test(instance) || instance.length > nameMax) {
    fail('name', instance,
      `object names derive from it (Service '<name>-sentinel'), so it must be a DNS label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most ${nameMax} characters`,
      "use a name such as 'redis' or 'cache'");
  }
  const namespace = p.namespace === undefined ? options.chartNamespace : string(p.namespace, '', 'namespace', fail);
  if (namespace !== undefined && (!DNS_1123_LABEL.test(namespace) || namespace.length > MAX_NAME)) {
    fail('namespace', namespace, `a namespace must be a DNS label: lowercase letters, digits and '-', at most ${MAX_NAME} characters`,
      "use a name such as 'default' or 'redis', or leave namespace unset");
  }

  const image = string(p.image, DEFAULTS.image, 'image', fail);
  checkImage(image, fail);

  const topology = options.topology ?? 'classic';
  const sidecars = topology === 'statefulset'
    && (props as RedisSentinelStatefulSetProps).sentinelPlacement !== SentinelPlacement.STATEFUL_SET;
  const redisReplicas = topology === 'classic'
    ? int(p.redisReplicas, DEFAULTS.redisReplicas, 'redisReplicas', 2, INT32_MAX, fail,
      'deleting the bootstrap pod must leave at least one replica to promote', 'set redisReplicas to 2 or more (3 is the default)')
    : int(p.redisReplicas, DEFAULTS.redisReplicas, 'redisReplicas', sidecars ? 3 : 2, INT32_MAX, fail,
      sidecars ? 'each Redis pod carries a sentinel, and losing one pod must leave a majority of sentinels'
        : 'a failover needs a replica to promote',
      `set redisReplicas to ${sidecars ? 3 : 2} or more (3 is the default)`);
  if (sidecars && p.sentinelReplicas !== undefined && p.sentinelReplicas !== redisReplicas) {
    fail('sentinelReplicas', p.sentinelReplicas, `with sentinels as sidecars there is one per Redis pod (redisReplicas = ${redisReplicas})`,
      'leave sentinelReplicas unset, or use sentinelPlacement: SentinelPlacement.STATEFUL_SET');
  }
  const sentinelReplicas = sidecars ? redisReplicas : int(p.sentinelReplicas, DEFAULTS.sentinelReplicas, 'sentinelReplicas', 3, INT32_MAX, fail,
    topology === 'classic'
      ? 'deleting the bootstrap pod takes one sentinel with it, and the rest must still be a majority to authorise the failover'
      : 'losing one sentinel must leave a majority to authorise a failover',
    'set sentinelReplicas to 3 or more (an odd number is best)');

  const masterName = string(p.masterName, DEFAULTS.masterName, 'masterName', fail);
  if (!MASTER_NAME.test(masterName) || masterName.length > MAX_MASTER_NAME) {
    fail('masterName', masterName,
      `a master name may hold only letters, digits, ".", "_" and "-", starting with a letter or digit, at most ${MAX_MASTER_NAME} characters`,
      "use a name such as 'mymaster'");
  }

  const maxQuorum = topology === 'classic' ? sentinelReplicas - 1 : sentinelReplicas;
  const quorum = int(p.quorum, DEFAULTS.quorum, 'quorum', 1, maxQuorum, fail,
    topology === 'classic'
      ? `the bootstrap pod's sentinel leaves with it, so a quorum above sentinelReplicas - 1 (${maxQuorum}) can never be reached`
      : `a quorum above the number of sentinels (${maxQuorum}) can never be reached`,
    `set quorum to ${Math.floor(sentinelReplicas / 2) + 1} (a majority of ${sentinelReplicas}) or raise sentinelReplicas`);

  const downAfterMs = durationMs(p.downAfter, DEFAULTS.downAfterMs, 'downAfter', fail);
  if (downAfterMs < 1000 || downAfterMs > INT32_MAX) {
    fail('downAfter', p.downAfter, `Sentinel pings once a second, so it must be from 1 s to ${INT32_MAX} ms (Sentinel reads a 32-bit number)`,
      'use Duration.seconds(1) or more (5 s is the default)');
  }
  const failoverTimeoutMs = durationMs(p.failoverTimeout, DEFAULTS.failoverTimeoutMs, 'failoverTimeout', fail);
  if (failoverTimeoutMs <= downAfterMs || failoverTimeoutMs > INT32_MAX) {
    fail('failoverTimeout', p.failoverTimeout ?? `${failoverTimeoutMs} ms`,
      `it must be longer than downAfter (${downAfterMs} ms), or a failover can time out before the master is even seen down, and at most ${INT32_MAX} ms`,
      `set failoverTimeout to about three times downAfter, e.g. Duration.millis(${Math.min(downAfterMs * 3, INT32_MAX)})`);
  }

  const parallelSyncs = int(p.parallelSyncs, DEFAULTS.parallelSyncs, 'parallelSyncs', 1, INT32_MAX, fail,
    'at least one replica must resynchronise at a time', 'set parallelSyncs to 1 or more');
  const minReplicasToWrite = int(p.minReplicasToWrite, DEFAULTS.minReplicasToWrite, 'minReplicasToWrite', 0, redisReplicas - 1, fail,
    `it must be at most redisReplicas - 1 (${redisReplicas - 1}), or the master refuses every write`,
    'set minReplicasToWrite to 1 (the default) or 0 to turn the guard off');

  const discoveryTimeoutMs = durationMs(p.discoveryTimeout, DEFAULTS.discoveryTimeoutMs, 'discoveryTimeout', fail);
  if (discoveryTimeoutMs < 10_000 || discoveryTimeoutMs > INT32_MAX) {
    fail('discoveryTimeout', p.discoveryTimeout, `pods need time to find the master while the sentinels start: from 10 s to ${INT32_MAX} ms`,
      'use Duration.seconds(10) or more (2 minutes is the default)');
  }

  const portWhy = `a port is a whole number from ${MIN_PORT} to 65535: the containers run without the capability to bind lower ports`;
  const redisPort = int(p.redisPort, DEFAULTS.redisPort, 'redisPort', MIN_PORT, 65535, fail, portWhy, `use the default ${DEFAULTS.redisPort}`);
  const sentinelPort = int(p.sentinelPort, DEFAULTS.sentinelPort, 'sentinelPort', MIN_PORT, 65535, fail, portWhy, `use the default ${DEFAULTS.sentinelPort}`);
  if (redisPort === sentinelPort) {
    fail('sentinelPort', sentinelPort, 'Redis and Sentinel share the bootstrap pod\'s network, so their ports must differ',
      `use different ports, e.g. redisPort ${DEFAULTS.redisPort} and sentinelPort ${DEFAULTS.sentinelPort}`);
  }

  const redisResources = resolveResources('redisResources', p.redisResources, fail);
  const sentinelResources = resolveResources('sentinelResources', p.sentinelResources, fail);
  const memoryLimit = quantityValue(redisResources.limits.memory);
  const maxMemoryBytes = p.maxMemory === undefined
    ? Math.floor(memoryLimit * DEFAULTS.maxMemoryFraction)
    : sizeBytes(p.maxMemory, 'maxMemory', fail);
  if (maxMemoryBytes < 1024 * 1024 || maxMemoryBytes >= memoryLimit) {
    fail('maxMemory', p.maxMemory ?? `${maxMemoryBytes} bytes`,
      `Redis needs at least 1 MiB for data and headroom below the Redis memory limit (${redisResources.limits.memory}) for replication buffers and fork copy-on-write`,
      `set maxMemory to about ${Math.round(DEFAULTS.maxMemoryFraction * 100)}% of redisResources.memory.limit, or raise the limit`);
  }

  const auth = resolveAuth(p.auth, instance, fail);
  const networkPolicy = p.networkPolicy === undefined ? true : p.networkPolicy;
  if (typeof networkPolicy !== 'boolean') fail('networkPolicy', networkPolicy, 'it is true or false', 'write networkPolicy: false to turn the policy off');

  const sentinelName = `${instance}${SENTINEL_SUFFIX}`;
  const names: ResolvedNames = {
    instance,
    configMap: `${instance}-config`,
    bootstrapPod: `${instance}-master`,
    sentinelService: sentinelName,
    headlessService: `${instance}${HEADLESS_SUFFIX}`,
    redisController: instance,
    sentinelController: sentinelName,
    networkPolicy: instance,
    redisDisruptionBudget: instance,
    sentinelDisruptionBudget: sentinelName,
  };
  return {
    topology,
    names,
    labels: resolveLabels(instance),
    containers: CONTAINERS,
    namespace,
    image,
    redisReplicas,
    sentinelReplicas,
    masterName,
    quorum,
    downAfterMs,
    failoverTimeoutMs,
    parallelSyncs,
    minReplicasToWrite,
    redisResources,
    sentinelResources,
    maxMemoryBytes,
    discoveryTimeoutSeconds: Math.ceil(discoveryTimeoutMs / 1000),
    redisPort,
    sentinelPort,
    auth,
    networkPolicy: networkPolicy as boolean,
    paths: PATHS,
  };
}

/**
 * A controller's `replicas` prop: `spec.replicas` in its manifest, or nothing (Kubernetes starts it at
 * one, and a later `kubectl apply` leaves a scaled controller alone).
 */
export function resolveControllerReplicas(construct: string, replicas: unknown): number | undefined {
  if (replicas === undefined) return undefined;
  return int(replicas, 1, 'replicas', 1, INT32_MAX, (prop, value, problem, fix) => {
    throw new RedisSentinelPropError(prop, value, problem, fix, construct);
  }, 'a controller needs at least one pod', 'set replicas to 1 or more, or leave it unset to let the launch scale the controller');
}

type Fail = (prop: string, value: unknown, problem: string, fix: string) => never;

function resolveLabels(instance: string): ResolvedLabels {
  const sentinelName = `${instance}${SENTINEL_SUFFIX}`;
  const instanceSelector = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': instance };
  const recommended = (component: Component) => ({
    ...instanceSelector,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': instance,
    'app.kubernetes.io/managed-by': 'cdk8s',
  });
  const redisSelector = { name: instance };
  const sentinelSelector = { [sentinelName]: 'true' };
  return {
    redisSelector,
    sentinelSelector,
    instanceSelector,
    clientSelector: { [`${instance}${CLIENT_SUFFIX}`]: 'true' },
    recommended: {
      config: recommended('config'),
      bootstrap: recommended('bootstrap'),
      redis: recommended('redis'),
      sentinel: recommended('sentinel'),
      network: recommended('network'),
    },
    bootstrapPod: { ...redisSelector, ...sentinelSelector, role: 'master', ...recommended('bootstrap') },
    redisPod: { ...redisSelector, ...recommended('redis') },
    sentinelPod: { name: sentinelName, ...sentinelSelector, role: 'sentinel', ...recommended('sentinel') },
    sentinelService: { name: 'sentinel', role: 'service', ...recommended('sentinel') },
  };
}

/** Props are a plain object with known keys only and no `null` values. */
function checkShape(props: unknown, extra: readonly string[], fail: Fail): void {
  if (props === null || typeof props !== 'object' || Array.isArray(props)) {
    fail('props', props, 'props are an object of optional settings', 'pass an object such as { name: \'redis\' }, or nothing for the defaults');
  }
  const known = [...Object.keys(PROP_KINDS), ...extra];
  for (const [key, value] of Object.entries(props as object)) {
    if (!known.includes(key)) {
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
      fail(key, value, `there is no such prop${near ? ` (did you mean '${near}'?)` : ''}; the props are ${known.join(', ')}`,
        near ? `rename it to '${near}'` : 'remove it');
    }
    if (value === null) {
      fail(key, value, 'null is not a value for any prop', `leave '${key}' unset (undefined) for its default`);
    }
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function string(value: unknown, fallback: string, prop: string, fail: Fail): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') fail(prop, value, `it must be ${PROP_KINDS[prop as keyof RedisSentinelProps] ?? 'a string'}`, `write it as a string, e.g. '${fallback || prop}'`);
  return value as string;
}

/** A whole number from min to max, written in plain digits wherever it goes. */
function int(value: unknown, fallback: number, prop: string, min: number, max: number, fail: Fail, why: string, fix: string): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(prop, v, `it must be a whole number from ${min} to ${max}: ${why}`, fix);
  }
  return v as number;
}

/** Milliseconds of a cdk8s Duration (any copy of cdk8s: recognised by its methods). */
function durationMs(value: unknown, fallbackMs: number, prop: string, fail: Fail): number {
  if (value === undefined) return fallbackMs;
  if (!hasMethod(value, 'toMilliseconds')) {
    fail(prop, value, 'durations are cdk8s Duration values, not bare numbers', 'write e.g. Duration.seconds(5)');
  }
  let ms: unknown;
  try {
    ms = (value as { toMilliseconds(): unknown }).toMilliseconds();
  } catch (e) {
    fail(prop, value, `cdk8s cannot turn it into milliseconds (${(e as Error).message})`, 'use a whole number of milliseconds, e.g. Duration.millis(1500)');
  }
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0) {
    fail(prop, value, 'it must be a positive whole number of milliseconds', 'use e.g. Duration.seconds(5)');
  }
  return ms as number;
}

/** Bytes of a cdk8s Size (any copy of cdk8s), which must be a whole number of KiB. */
function sizeBytes(value: unknown, prop: string, fail: Fail): number {
  if (!hasMethod(value, 'toKibibytes')) fail(prop, value, 'sizes are cdk8s Size values', 'write e.g. Size.mebibytes(512)');
  let kib: unknown;
  try {
    kib = (value as { toKibibytes(): unknown }).toKibibytes();
  } catch (e) {
    fail(prop, value, `cdk8s cannot turn it into whole KiB (${(e as Error).message})`, 'use a whole number of KiB or MiB, e.g. Size.mebibytes(512)');
  }
  if (typeof kib !== 'number' || !Number.isSafeInteger(kib) || kib <= 0 || kib * 1024 > Number.MAX_SAFE_INTEGER) {
    fail(prop, value, 'it must be a positive, finite size', 'use e.g. Size.mebibytes(512)');
  }
  return (kib as number) * 1024;
}

function hasMethod(value: unknown, method: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}

/** The Docker reference grammar, pinned: a lowercase repository with a tag other than `latest`, or a sha256 digest. */
function checkImage(image: string, fail: Fail): void {
  const domainPart = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const domain = `(?:${domainPart}(?:\\.${domainPart})*(?::[0-9]+)?)`;
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const reference = new RegExp(`^(?:(${domain})/)?(${component}(?:/${component})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);
  const m = reference.exec(image);
  // A first part without '.', ':' or 'localhost' is a path component, not a registry.
  const registryOk = !m || !m[1] || /[.:]/.test(m[1]) || m[1] === 'localhost' || new RegExp(`^${component}$`).test(m[1]);
  if (!m || !registryOk || image.length > 255) {
    fail('image', image,
      'an image reference is [registry[:port]/]repository[:tag][@sha256:<64 hex digits>], with a lowercase repository and a tag of letters, digits, "_", "." and "-"',
      `use e.g. '${DEFAULTS.image}' or 'registry.example.com/redis:8.6.5'`);
  }
  const [, , , tag, digest] = m!;
  if (!digest && (tag === undefined || tag === 'latest')) {
    fail('image', image, 'the image must be pinned by a tag other than "latest" or by a digest, so every pod runs the same Redis',
      `add a version tag, e.g. '${image.replace(/:latest$/, '')}:8.6.5'`);
  }
}

/** The ContainerResources prop of each Kubernetes resource name, for error messages. */
const RESOURCE_PROPS: Record<string, string> = { 'cpu': 'cpu', 'memory': 'memory', 'ephemeral-storage': 'ephemeralStorage' };

/** The role's defaults, with each field the prop sets replaced; every value checked. */
function resolveResources(prop: 'redisResources' | 'sentinelResources', value: unknown, fail: Fail): ResolvedResources {
  const base = DEFAULT_RESOURCES[prop];
  if (value === undefined) return base;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(prop, value, 'it must be a cdk8s-plus ContainerResources object', 'write e.g. { memory: { limit: Size.mebibytes(512) } }');
  }
  const limits: Record<string, string> = { ...base.limits };
  const requests: Record<string, string> = { ...base.requests };
  for (const [key, kind] of Object.entries(value as Record<string, unknown>)) {
    const resource = Object.keys(RESOURCE_PROPS).find((r) => RESOURCE_PROPS[r] === key);
    if (!resource) fail(`${prop}.${key}`, kind, 'ContainerResources has cpu, memory and ephemeralStorage', 'remove it');
    if (typeof kind !== 'object' || kind === null) fail(`${prop}.${key}`, kind, 'it must be an object with request and/or limit', 'write e.g. { request: ..., limit: ... }');
    for (const [which, q] of Object.entries(kind as Record<string, unknown>)) {
      const at = `${prop}.${key}.${which}`;
      if (which !== 'request' && which !== 'limit') fail(at, q, 'a resource has a request and a limit', 'remove it');
      if (q === undefined) continue;
      const quantity = resource === 'cpu' ? cpuQuantity(q, at, fail) : memoryQuantity(q, at, fail);
      (which === 'limit' ? limits : requests)[resource!] = quantity;
    }
  }
  for (const key of Object.keys(requests)) {
    const limit = limits[key];
    if (limit !== undefined && quantityValue(requests[key]) > quantityValue(limit)) {
      fail(`${prop}.${RESOURCE_PROPS[key]}`, { request: requests[key], limit }, 'a request above its limit is rejected by the API server', 'lower the request or raise the limit');
    }
  }
  if (!limits.memory) fail(`${prop}.memory.limit`, undefined, 'every container keeps a memory limit', 'set a memory limit');
  return { limits, requests };
}

/** A CPU quantity from a cdk8s-plus Cpu (any copy: its `amount`): whole millicores or cores, above zero. */
function cpuQuantity(value: unknown, prop: string, fail: Fail): string {
  const amount = typeof value === 'object' && value !== null ? (value as { amount?: unknown }).amount : undefined;
  if (typeof amount !== 'string' || !/^([1-9][0-9]*m|[0-9]+(\.[0-9]{1,3})?)$/.test(amount) || quantityValue(amount) <= 0 || quantityValue(amount) > 1e6) {
    fail(prop, amount ?? value, 'a CPU quantity is a positive, finite number of cores or whole millicores', 'use Cpu.millis(250) or Cpu.units(1)');
  }
  return amount as string;
}

/** A memory or storage quantity from a cdk8s Size: whole MiB when it is, else whole KiB. */
function memoryQuantity(value: unknown, prop: string, fail: Fail): string {
  const bytes = sizeBytes(value, prop, fail);
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024}Mi` : `${bytes / 1024}Ki`;
}

/** The value of a quantity this file writes: cores, millicores (`m`), KiB (`Ki`) and MiB (`Mi`) in bytes. */
function quantityValue(q: string): number {
  if (q.endsWith('m')) return Number(q.slice(0, -1)) / 1000;
  if (q.endsWith('Ki')) return Number(q.slice(0, -2)) * 1024;
  if (q.endsWith('Mi')) return Number(q.slice(0, -2)) * 1024 * 1024;
  return Number(q);
}

function resolveAuth(value: unknown, instance: string, fail: Fail): ResolvedAuth | undefined {
  if (value === false) return undefined;
  if (value === true || value === undefined) return { secretName: `${instance}-auth`, secretKeys: AUTH_SECRET_KEYS, clientAclRules: [] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('auth', value, 'it is false (no authentication) or an object of auth settings', 'leave it unset for the defaults, or write auth: { secretName: \'my-secret\' }');
  }
  const a = value as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (key !== 'secretName' && key !== 'clientAclRules') fail(`auth.${key}`, a[key], 'auth has secretName and clientAclRules', 'remove it');
  }
  const secretName = a.secretName === undefined ? `${instance}-auth` : a.secretName;
  if (typeof secretName !== 'string' || !DNS_1123_SUBDOMAIN.test(secretName) || secretName.length > 253) {
    fail('auth.secretName', secretName, 'a Secret name is a DNS subdomain: lowercase letters, digits, \'-\' and \'.\', at most 253 characters', `use e.g. '${instance}-auth'`);
  }
  const rules = a.clientAclRules === undefined ? [] : a.clientAclRules;
  if (!Array.isArray(rules) || rules.length > MAX_ACL_RULES) {
    fail('auth.clientAclRules', rules, `it is a list of at most ${MAX_ACL_RULES} ACL rules`, "write e.g. ['+flushdb']");
  }
  for (const rule of rules as unknown[]) {
    if (typeof rule !== 'string' || !ACL_RULE.test(rule)) {
      fail('auth.clientAclRules', rule,
        'each rule adds (+) or removes (-) a command, a subcommand (command|sub) or a category (@name), in lowercase; key and channel rules stay ours',
        "write e.g. '+flushdb', '-keys' or '+@scripting'");
    }
    const name = (rule as string).slice(1);
    const known = name.startsWith('@') ? REDIS_ACL_CATEGORIES.has(name.slice(1)) : REDIS_COMMANDS.has(name);
    if (!known) {
      fail('auth.clientAclRules', rule,
        `Redis 7.0 has no ${name.startsWith('@') ? 'ACL category' : 'command'} '${name.replace(/^@/, '')}', and an ACL rule naming one makes every Redis refuse to start`,
        name.startsWith('@') ? `use one of @${[...REDIS_ACL_CATEGORIES].join(', @')}` : 'check the spelling against the Redis command reference (subcommands as command|sub)');
    }
  }
  return { secretName: secretName as string, secretKeys: AUTH_SECRET_KEYS, clientAclRules: [...(rules as string[])] };
}

function show(value: unknown): string {
  if (hasMethod(value, 'toMilliseconds')) {
    try {
      return `Duration(${(value as { toMilliseconds(): number }).toMilliseconds()} ms)`;
    } catch {
      return `Duration(${(value as { toHumanString?(): string }).toHumanString?.() ?? '?'})`;
    }
  }
  if (hasMethod(value, 'toKibibytes')) {
    const size = value as { amount?: unknown; unit?: { label?: unknown } };
    return `Size(${String(size.amount)} ${String(size.unit?.label ?? '')})`.replace(/ \)$/, ')');
  }
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(typeof value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Where the composite puts its resolved settings for its parts (a symbol: no prop can collide). */
const RESOLVED = Symbol.for('cdk8s-redis-sentinel.settings');

/**
 * Props that carry settings already resolved: the composite resolves its props once and hands each
 * part these, so that a thousand instances are not resolved eight times each.
 */
export function resolvedProps(s: RedisSentinelSettings): RedisSentinelProps {
  return { [RESOLVED]: s } as RedisSentinelProps;
}

/**
 * The settings of a construct's props where it stands: the `namespace` prop falls back to the
 * namespace of its chart. Props from `resolvedProps` are used as they are.
 */
export function settingsIn<P extends RedisSentinelProps>(scope: IConstruct, props: P | undefined, options: Omit<ResolveOptions, 'chartNamespace'> = {},
  resolve: (props: P | undefined, options: ResolveOptions) => RedisSentinelSettings = resolveSettings): RedisSentinelSettings {
  const resolved = (props as { [RESOLVED]?: RedisSentinelSettings } | undefined)?.[RESOLVED];
  return resolved ?? resolve(props, { ...options, chartNamespace: Chart.of(scope).namespace });
}

/** The props `RedisSentinelStatefulSetProps` adds, and what kind of value each takes. */
const STATEFUL_SET_PROP_KINDS: Readonly<Record<Exclude<keyof RedisSentinelStatefulSetProps, keyof RedisSentinelProps>, string>> = {
  sentinelPlacement: 'a SentinelPlacement', storageSize: 'a cdk8s Size', storageClassName: 'a string',
  volumesWhenDeleted: 'a VolumeRetention', volumesWhenScaled: 'a VolumeRetention', podAntiAffinity: 'a PodAntiAffinity',
  spreadOverZones: 'a boolean', nodeSelector: 'an object of label names and values', tolerations: 'a list of tolerations',
  priorityClassName: 'a string', masterOnFirstPod: 'a boolean',
};

const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const TOLERATION_KEYS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];

/**
 * Resolves the props of the StatefulSet topology: the shared props under its rules (no bootstrap pod:
 * the quorum may be every sentinel; with sidecars there is one sentinel per Redis pod), and its own.
 */
export function resolveStatefulSetSettings(props: RedisSentinelStatefulSetProps = {}, options: Omit<ResolveOptions, 'topology'> = {}): RedisSentinelSettings {
  const construct = options.construct ?? 'RedisSentinelStatefulSet';
  const fail: Fail = (prop, value, problem, fix) => { throw new RedisSentinelPropError(prop, value, problem, fix, construct); };
  const base = resolveSettings(props, { ...options, construct, topology: 'statefulset', extraProps: [...Object.keys(STATEFUL_SET_PROP_KINDS), ...(options.extraProps ?? [])] });
  const p = props as Record<string, unknown>;
  const oneOf = <T extends string>(prop: string, e: Record<string, T>, fallback: T): T => {
    const v = p[prop] === undefined ? fallback : p[prop];
    if (!Object.values(e).includes(v as T)) {
      fail(prop, v, `it must be ${STATEFUL_SET_PROP_KINDS[prop as keyof typeof STATEFUL_SET_PROP_KINDS]}: one of ${Object.values(e).map((x) => JSON.stringify(x)).join(', ')}`,
        `use the enum, e.g. ${prop === 'sentinelPlacement' ? 'SentinelPlacement.SIDECAR' : prop === 'podAntiAffinity' ? 'PodAntiAffinity.PREFERRED' : 'VolumeRetention.RETAIN'}`);
    }
    return v as T;
  };
  const subdomain = (prop: string): string | undefined => {
    const v = p[prop];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !DNS_1123_SUBDOMAIN.test(v) || v.length > 253) {
      fail(prop, v, 'it is the name of a Kubernetes object: a DNS subdomain of lowercase letters, digits, \'-\' and \'.\'', "use e.g. 'fast-ssd'");
    }
    return v as string;
  };

  const sentinelPlacement = oneOf('sentinelPlacement', SentinelPlacement as unknown as Record<string, SentinelPlacement>, SentinelPlacement.SIDECAR);
  const storageSize = p.storageSize === undefined ? '1Gi' : memoryQuantity(p.storageSize, 'storageSize', fail);
  const spreadOverZones = p.spreadOverZones === undefined ? true : p.spreadOverZones;
  if (typeof spreadOverZones !== 'boolean') fail('spreadOverZones', spreadOverZones, 'it is true or false', 'write spreadOverZones: false to stop spreading over zones');
  const masterOnFirstPod = p.masterOnFirstPod === undefined ? true : p.masterOnFirstPod;
  if (typeof masterOnFirstPod !== 'boolean') fail('masterOnFirstPod', masterOnFirstPod, 'it is true or false', 'write masterOnFirstPod: false to leave the master where a failover puts it');
  const nodeSelector = p.nodeSelector;
  if (nodeSelector !== undefined) {
    if (typeof nodeSelector !== 'object' || nodeSelector === null || Array.isArray(nodeSelector)) {
      fail('nodeSelector', nodeSelector, 'it is an object of node label names and values', "write e.g. { 'kubernetes.io/os': 'linux' }");
    }
    for (const [k, v] of Object.entries(nodeSelector as object)) {
      if (!LABEL_NAME.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
        fail(`nodeSelector.${k}`, v, 'label names and values follow the Kubernetes label syntax (values up to 63 letters, digits, "-", "_", ".")', "write e.g. { 'disktype': 'ssd' }");
      }
    }
  }
  const tolerations = p.tolerations === undefined ? [] : p.tolerations;
  if (!Array.isArray(tolerations)) fail('tolerations', tolerations, 'it is a list of tolerations', "write e.g. [{ key: 'dedicated', operator: 'Equal', value: 'redis', effect: 'NoSchedule' }]");
  (tolerations as unknown[]).forEach((t, i) => {
    const at = `tolerations[${i}]`;
    if (typeof t !== 'object' || t === null) fail(at, t, 'a toleration is an object', "write e.g. { key: 'dedicated', operator: 'Exists' }");
    for (const [k, v] of Object.entries(t as object)) {
      if (!TOLERATION_KEYS.includes(k)) fail(`${at}.${k}`, v, `a toleration has ${TOLERATION_KEYS.join(', ')}`, 'remove it');
      if (k === 'tolerationSeconds' ? !Number.isSafeInteger(v) : typeof v !== 'string') fail(`${at}.${k}`, v, `${k} is ${k === 'tolerationSeconds' ? 'a whole number' : 'a string'}`, 'fix its type');
    }
    const op = (t as PodToleration).operator;
    if (op !== undefined && op !== 'Equal' && op !== 'Exists') fail(`${at}.operator`, op, 'the operator is Equal or Exists', "use 'Equal' or 'Exists'");
    const effect = (t as PodToleration).effect;
    if (effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      fail(`${at}.effect`, effect, 'the effect is NoSchedule, PreferNoSchedule or NoExecute', "use e.g. 'NoSchedule'");
    }
  });

  const instance = base.names.instance;
  const redisPodSelector = { ...base.labels.instanceSelector, 'app.kubernetes.io/component': 'redis' };
  const sentinelPodSelector = sentinelPlacement === SentinelPlacement.SIDECAR
    ? redisPodSelector : { ...base.labels.instanceSelector, 'app.kubernetes.io/component': 'sentinel' };
  return {
    ...base,
    // The shared parts (Services, budgets) select these pods: no seed labels in this topology.
    labels: { ...base.labels, redisSelector: redisPodSelector, sentinelSelector: sentinelPodSelector },
    statefulSet: {
      sentinelPlacement,
      storageSize,
      storageClassName: subdomain('storageClassName'),
      volumesWhenDeleted: oneOf('volumesWhenDeleted', VolumeRetention as unknown as Record<string, VolumeRetention>, VolumeRetention.RETAIN),
      volumesWhenScaled: oneOf('volumesWhenScaled', VolumeRetention as unknown as Record<string, VolumeRetention>, VolumeRetention.RETAIN),
      podAntiAffinity: oneOf('podAntiAffinity', PodAntiAffinity as unknown as Record<string, PodAntiAffinity>, PodAntiAffinity.PREFERRED),
      spreadOverZones: spreadOverZones as boolean,
      nodeSelector: nodeSelector === undefined ? undefined : { ...(nodeSelector as Record<string, string>) },
      tolerations: (tolerations as PodToleration[]).map((t) => ({ ...t })),
      priorityClassName: subdomain('priorityClassName'),
      masterOnFirstPod: masterOnFirstPod as boolean,
      redisStatefulSet: instance,
      sentinelStatefulSet: `${instance}${SENTINEL_SUFFIX}`,
      redisPodSelector,
      sentinelPodSelector,
    },
  };
}
