import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { configMapData } from './redis-config';
import { settingsIn } from './settings';

/**
 * The ConfigMap `<name>-config`: redis.conf, the sentinel.conf template, cluster.env and the entry
 * scripts that every container runs. The construct is the ConfigMap object itself.
 */
export class RedisSentinelConfig extends k8s.KubeConfigMap {
  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    const s = settingsIn(scope, props, { construct: 'RedisSentinelConfig' });
    super(scope, id, {
      metadata: objectMeta(s, s.names.configMap, s.labels.recommended.config),
      data: configMapData(s),
    });
  }
}
