import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { claim, selectorClaims } from './claims';
import { connectionEnv, ConnectionEnvOptions } from './client-env';
import { RedisSentinelConfig } from './config-map';
import { RedisDisruptionBudget, SentinelDisruptionBudget } from './disruption-budgets';
import { RedisHeadlessService } from './headless-service';
import { RedisMasterPod } from './master-pod';
import { RedisSentinelNetworkPolicy } from './network-policy';
import { IPodSelectorPeer, PeerPodSelectorConfig, podSelectorConfig } from './peer';
import { RedisSentinelProps } from './props';
import { RedisController } from './redis-controller';
import { SentinelController } from './sentinel-controller';
import { SentinelService } from './sentinel-service';
import { RedisSentinelPropError, RedisSentinelSettings, resolvedProps, settingsIn } from './settings';

/**
 * Redis with Sentinel failover, the classic Kubernetes way: a bootstrap pod (master + sentinel), the
 * sentinel Service, a ReplicationController of Redis servers and one of sentinels, plus the
 * ConfigMap with the configuration and entry scripts, a NetworkPolicy and PodDisruptionBudgets, all
 * from one set of props, in one chart.
 *
 * The manifests start both controllers at one pod (the bootstrap pod counts for both). Scaling them,
 * waiting for health and deleting the bootstrap pod is the launch sequence (`LaunchPlan`).
 *
 * It is a cdk8s-plus network-policy peer: `deployment.connections.allowTo(redis)` lets a
 * Deployment's pods reach every pod of the instance.
 */
export class RedisSentinel extends Construct implements IPodSelectorPeer {
  /** The resolved settings: every default applied. */
  public readonly settings: RedisSentinelSettings;
  /** Where Sentinel-aware clients connect: the sentinel Service's DNS name. */
  public readonly sentinelHost: string;
  /** The sentinel Service's port. */
  public readonly sentinelPort: number;
  /** The master name to ask the sentinels for. */
  public readonly masterName: string;

  // The parts are the Kubernetes objects themselves, direct children of the instance: a lean
  // construct tree keeps cdk8s' synth passes short (docs/benchmarks.md, synth at scale).
  public readonly config: RedisSentinelConfig;
  /** The bootstrap pod: the first master and sentinel, deleted by the launch once the controllers took over. */
  public readonly bootstrapPod: RedisMasterPod;
  public readonly sentinelService: SentinelService;
  /** The headless Service over the Redis pods, for discovery without the sentinels. */
  public readonly headlessService: RedisHeadlessService;
  public readonly redisController: RedisController;
  public readonly sentinelController: SentinelController;
  /** The NetworkPolicy; undefined with `networkPolicy: false`. */
  public readonly networkPolicy?: RedisSentinelNetworkPolicy;
  public readonly redisDisruptionBudget: RedisDisruptionBudget;
  public readonly sentinelDisruptionBudget: SentinelDisruptionBudget;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    this.settings = settingsIn(this, props);
    const s = this.settings;
    claim(this, s, claims(s));

    // Created in apply order (a chart lists its objects in creation order): the configuration and the
    // policies first, then the seed's order: the bootstrap pod, the Service, the two controllers.
    const parts = resolvedProps(s);
    this.config = new RedisSentinelConfig(this, 'Config', parts);
    if (s.networkPolicy) this.networkPolicy = new RedisSentinelNetworkPolicy(this, 'NetworkPolicy', parts);
    this.redisDisruptionBudget = new RedisDisruptionBudget(this, 'RedisDisruptionBudget', parts);
    this.sentinelDisruptionBudget = new SentinelDisruptionBudget(this, 'SentinelDisruptionBudget', parts);
    this.bootstrapPod = new RedisMasterPod(this, 'MasterPod', parts);
    this.sentinelService = new SentinelService(this, 'SentinelService', parts);
    this.headlessService = new RedisHeadlessService(this, 'HeadlessService', parts);
    this.redisController = new RedisController(this, 'RedisController', parts);
    this.sentinelController = new SentinelController(this, 'SentinelController', parts);

    this.sentinelHost = s.namespace === undefined ? s.names.sentinelService : `${s.names.sentinelService}.${s.namespace}.svc`;
    this.sentinelPort = s.sentinelPort;
    this.masterName = s.masterName;
  }

  /**
   * Lets a cdk8s-plus peer (a Deployment, `Pods.select(...)`, a namespace, an IP block) reach the
   * Redis and Sentinel ports through the NetworkPolicy. With `networkPolicy: false` there is nothing
   * to open, and this throws rather than pretend.
   */
  public allowFrom(peer: { toNetworkPolicyPeerConfig(): any }): void {
    if (!this.networkPolicy) {
      throw new RedisSentinelPropError('networkPolicy', false, 'allowFrom() adds to the NetworkPolicy, and this instance has none',
        'leave networkPolicy on, or open the pods with your own policy');
    }
    this.networkPolicy.allowFrom(peer);
  }

  /**
   * The environment variables a Sentinel-aware client needs: `REDIS_SENTINEL_HOST`,
   * `REDIS_SENTINEL_PORT`, `REDIS_MASTER_NAME` and, with auth, `REDIS_PASSWORD` from the Secret (by
   * reference). For an L1 container's `env`.
   */
  public connectionEnv(options: ConnectionEnvOptions = {}): k8s.EnvVar[] {
    return connectionEnv(this.settings, this.sentinelHost, options);
  }

  /**
   * Adds `connectionEnv()` to a cdk8s-plus container (any cdk8s-plus version:
   * `container.env.addVariable(name, value)` is all it calls).
   */
  public addConnectionEnv(container: { readonly env: { addVariable(name: string, value: any): void } }, options: ConnectionEnvOptions = {}): void {
    for (const e of this.connectionEnv(options)) container.env.addVariable(e.name, { value: e.value, valueFrom: e.valueFrom });
  }

  /** Every pod of the instance, in its namespace (cdk8s-plus IPodSelector). */
  public toPodSelectorConfig(): PeerPodSelectorConfig {
    return podSelectorConfig(this.settings.labels.instanceSelector, this.settings.namespace);
  }

  /** cdk8s-plus INetworkPolicyPeer: every pod of the instance. */
  public toNetworkPolicyPeerConfig(): { podSelector: PeerPodSelectorConfig } {
    return { podSelector: this.toPodSelectorConfig() };
  }

  /** cdk8s-plus INetworkPolicyPeer. */
  public toPodSelector(): IPodSelectorPeer {
    return this;
  }
}

/** Object names and selectors this instance claims in its namespace. */
function claims(s: RedisSentinelSettings): string[] {
  const n = s.names;
  return [
    `ConfigMap/${n.configMap}`, `Pod/${n.bootstrapPod}`, `Service/${n.sentinelService}`, `Service/${n.headlessService}`,
    `ReplicationController/${n.redisController}`, `ReplicationController/${n.sentinelController}`,
    `NetworkPolicy/${n.networkPolicy}`, `PodDisruptionBudget/${n.redisDisruptionBudget}`,
    `PodDisruptionBudget/${n.sentinelDisruptionBudget}`,
    ...(s.auth ? [`Secret/${s.auth.secretName}`] : []),
    ...selectorClaims(s.labels.redisSelector, s.labels.sentinelSelector, s.labels.instanceSelector),
  ];
}
