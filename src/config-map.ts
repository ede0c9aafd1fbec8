import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { configMapData } from './redis-config';
import { settingsIn } from './settings';

/**
 * The ConfigMap `<name>-config`: redis.conf, the sentinel.conf template, cluster.env and the entry
 * scripts that every container runs.
 */
export class RedisSentinelConfig extends Construct {
  /** The ConfigMap's name. */
  public readonly name: string;
  /** The generated object. */
  public readonly resource: k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    const s = settingsIn(this, props, { construct: 'RedisSentinelConfig' });
    this.name = s.names.configMap;
    this.resource = new k8s.KubeConfigMap(this, 'Resource', {
      metadata: objectMeta(s, this.name, s.labels.recommended.config),
      data: configMapData(s),
    });
  }
}
