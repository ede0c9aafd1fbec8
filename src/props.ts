// The public props: what users of the constructs write. Defaults and rules live in settings.ts.
import type { Duration } from 'cdk8s';
import type { ContainerResources } from 'cdk8s-plus-28';

/**
 * Props of a Redis + Sentinel topology: the composite `RedisSentinel` takes them, and so do the part
 * constructs (`RedisMasterPod`, `SentinelService`, `RedisController`, `SentinelController`,
 * `RedisSentinelConfig`), so that parts composed by hand agree on names, labels and ports.
 *
 * Every prop is optional; the defaults are the classic Kubernetes example's ("Reliable, Scalable
 * Redis on Kubernetes"), except the Sentinel timings, which are chosen for fast, safe failover.
 */
export interface RedisSentinelProps {
  /**
   * The instance name. Every object name, label value and selector follows from it, so a second
   * instance (say `cache`) can live next to the default one in the same namespace.
   *
   * Names for `redis`: Pod `redis-master`, Service `redis-sentinel`, ReplicationControllers `redis`
   * and `redis-sentinel`, ConfigMap `redis-config`, sentinel label `redis-sentinel: "true"`.
   * @default 'redis'
   */
  readonly name?: string;

  /**
   * The namespace of every object.
   * @default - no namespace in the manifests: kubectl's current namespace
   */
  readonly namespace?: string;

  /**
   * The container image of every container: the official Redis image, pinned by tag or digest.
   * Our entry scripts (shipped in a ConfigMap) run on it; it needs only `sh`, `redis-server`,
   * `redis-sentinel` and `redis-cli`.
   * @default 'redis:7.2.5'
   */
  readonly image?: string;

  /**
   * How many Redis servers (one master, the rest replicas) the launch scales `rc/<name>` to.
   * At least 2: deleting the bootstrap pod must leave a replica to promote.
   * @default 3
   */
  readonly redisReplicas?: number;

  /**
   * How many sentinels the launch scales `rc/<name>-sentinel` to. At least 3: deleting the
   * bootstrap pod takes one sentinel with it, and the others must still be a majority.
   * @default 3
   */
  readonly sentinelReplicas?: number;

  /**
   * The name under which the sentinels monitor the master (what clients ask for).
   * @default 'mymaster'
   */
  readonly masterName?: string;

  /**
   * How many sentinels must agree that the master is down before a failover starts.
   * Between 1 and `sentinelReplicas - 1` (the bootstrap pod's sentinel leaves with it).
   * @default 2
   */
  readonly quorum?: number;

  /**
   * How long the master must be unreachable before a sentinel considers it down
   * (`down-after-milliseconds`). The classic example used 60 s.
   * @default Duration.seconds(5)
   */
  readonly downAfter?: Duration;

  /**
   * Sentinel's `failover-timeout`: how long a failover may take, and half the time before the same
   * master is failed over again. Must be longer than `downAfter`. The classic example used 180 s.
   * @default Duration.seconds(15)
   */
  readonly failoverTimeout?: Duration;

  /**
   * How many replicas resynchronise with a new master at the same time (`parallel-syncs`).
   * @default 1
   */
  readonly parallelSyncs?: number;

  /**
   * A master refuses writes while fewer replicas than this are connected with a lag of at most
   * 10 s (`min-replicas-to-write`). It stops a cut-off old master from taking writes that a
   * failover would discard. 0 turns the guard off.
   * @default 1
   */
  readonly minReplicasToWrite?: number;

  /**
   * Resources of the Redis containers (`master` and `redis`).
   * @default - CPU limit of 1 core, as in the example the Kolla demo borrowed
   */
  readonly redisResources?: ContainerResources;

  /**
   * Resources of the sentinel containers.
   * @default - none set, as in the classic example
   */
  readonly sentinelResources?: ContainerResources;

  /**
   * How long a Redis replica (or a sentinel) keeps asking the sentinel Service for the master
   * before its container exits and Kubernetes restarts it.
   * @default Duration.minutes(2)
   */
  readonly discoveryTimeout?: Duration;

  /**
   * The Redis port.
   * @default 6379
   */
  readonly redisPort?: number;

  /**
   * The Sentinel port, also the sentinel Service's port.
   * @default 26379
   */
  readonly sentinelPort?: number;
}

/** Props of the controllers: the topology's props plus the replicas written into the manifest. */
export interface ControllerProps extends RedisSentinelProps {
  /**
   * `spec.replicas` in the manifest.
   * @default - omitted: Kubernetes starts the controller at 1 (the seed's value), the launch scales
   * it, and a later `kubectl apply` of the same manifest never scales a running cluster back down
   */
  readonly replicas?: number;
}
