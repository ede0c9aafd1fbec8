import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { settingsIn } from './settings';

/**
 * PodDisruptionBudgets `<name>` (the Redis pods) and `<name>-sentinel` (the sentinels), each with
 * `maxUnavailable: 1`: a node drain evicts one pod of each at a time, so it cannot take the master's
 * replicas or the sentinels' quorum away at once.
 */
export class RedisSentinelDisruptionBudgets extends Construct {
  /** The Redis pods' budget. */
  public readonly redis: k8s.KubePodDisruptionBudget;
  /** The sentinels' budget. */
  public readonly sentinel: k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    const s = settingsIn(this, props, { construct: 'RedisSentinelDisruptionBudgets' });
    const budget = (childId: string, name: string, selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>) =>
      new k8s.KubePodDisruptionBudget(this, childId, {
        metadata: objectMeta(s, name, labels),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...selector } } },
      });
    this.redis = budget('Redis', s.names.redisDisruptionBudget, s.labels.redisSelector, s.labels.recommended.redis);
    this.sentinel = budget('Sentinel', s.names.sentinelDisruptionBudget, s.labels.sentinelSelector, s.labels.recommended.sentinel);
  }
}
