import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { RedisSentinelConfig } from './config-map';
import { RedisMasterPod } from './master-pod';
import { RedisController } from './redis-controller';
import { SentinelController } from './sentinel-controller';
import { SentinelService } from './sentinel-service';
import { RedisSentinelProps } from './props';
import { RedisSentinelPropError, RedisSentinelSettings, resolveSettings } from './settings';

/**
 * Redis with Sentinel failover, the classic Kubernetes way: a bootstrap pod (master + sentinel), the
 * sentinel Service, a ReplicationController of Redis servers and one of sentinels, plus the
 * ConfigMap with the configuration and entry scripts, all from one set of props, in one chart.
 *
 * The manifests start both controllers at one pod (the bootstrap pod counts for both). Scaling them,
 * waiting for health and deleting the bootstrap pod is the launch sequence (`LaunchPlan`).
 */
export class RedisSentinel extends Construct {
  /** The resolved settings: every default applied. */
  public readonly settings: RedisSentinelSettings;
  /** Where Sentinel-aware clients connect: the sentinel Service's DNS name. */
  public readonly sentinelHost: string;
  /** The sentinel Service's port. */
  public readonly sentinelPort: number;
  /** The master name to ask the sentinels for. */
  public readonly masterName: string;

  public readonly config: RedisSentinelConfig;
  /** The bootstrap pod: the first master and sentinel, deleted by the launch once the controllers took over. */
  public readonly bootstrapPod: RedisMasterPod;
  public readonly sentinelService: SentinelService;
  public readonly redisController: RedisController;
  public readonly sentinelController: SentinelController;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    this.settings = resolveSettings(props);
    const s = this.settings;
    checkNoCollision(this);

    this.config = new RedisSentinelConfig(this, 'Config', props);
    this.bootstrapPod = new RedisMasterPod(this, 'MasterPod', props);
    this.sentinelService = new SentinelService(this, 'SentinelService', props);
    this.redisController = new RedisController(this, 'RedisController', props);
    this.sentinelController = new SentinelController(this, 'SentinelController', props);

    this.sentinelHost = s.namespace === undefined ? s.names.sentinelService : `${s.names.sentinelService}.${s.namespace}.svc`;
    this.sentinelPort = s.sentinelPort;
    this.masterName = s.masterName;
  }
}

/** Object names and selectors this instance claims in its namespace. */
function claims(s: RedisSentinelSettings): string[] {
  const n = s.names;
  return [
    `ConfigMap/${n.configMap}`, `Pod/${n.bootstrapPod}`, `Service/${n.sentinelService}`,
    `ReplicationController/${n.redisController}`, `ReplicationController/${n.sentinelController}`,
    ...Object.entries(s.labels.redisSelector).map(([k, v]) => `selector ${k}=${v}`),
    ...Object.entries(s.labels.sentinelSelector).map(([k, v]) => `selector ${k}=${v}`),
  ];
}

/** Two instances in one namespace of one chart must not share a name or a selector. */
function checkNoCollision(self: RedisSentinel): void {
  const chart = Chart.of(self);
  const mine = new Set(claims(self.settings));
  for (const other of chart.node.findAll()) {
    if (other === self || !(other instanceof RedisSentinel)) continue;
    if (other.settings.namespace !== self.settings.namespace) continue;
    const clash = claims(other.settings).find((c) => mine.has(c));
    if (clash) {
      throw new RedisSentinelPropError('name', self.settings.names.instance,
        `it collides with the RedisSentinel '${other.node.path}' (name '${other.settings.names.instance}') in the same namespace: both claim ${clash}`,
        'give each instance in a namespace a distinct name whose derived names do not overlap, e.g. \'redis\' and \'cache\'');
    }
  }
}
