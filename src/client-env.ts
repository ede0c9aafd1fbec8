// What a Sentinel-aware client needs to connect, as environment variables: the sentinel Service's
// host and port, the master name, and (with auth) the client password by Secret reference, so no
// password is written into a manifest.
import * as k8s from '../imports/k8s';
import { RedisSentinelPropError, RedisSentinelSettings } from './settings';

/** Options of `RedisSentinel.connectionEnv` and `addConnectionEnv`. */
export interface ConnectionEnvOptions {
  /** What the variables' names start with. @default 'REDIS_' */
  readonly prefix?: string;
}

const ENV_PREFIX = /^[A-Z_][A-Z0-9_]*$/;

/** `<PREFIX>SENTINEL_HOST`, `<PREFIX>SENTINEL_PORT`, `<PREFIX>MASTER_NAME` and, with auth, `<PREFIX>PASSWORD`. */
export function connectionEnv(s: RedisSentinelSettings, sentinelHost: string, options: ConnectionEnvOptions = {}): k8s.EnvVar[] {
  const prefix = options.prefix ?? 'REDIS_';
  if (typeof prefix !== 'string' || (prefix !== '' && !ENV_PREFIX.test(prefix))) {
    throw new RedisSentinelPropError('prefix', prefix, 'an environment variable name is uppercase letters, digits and "_", not starting with a digit',
      "use e.g. 'REDIS_' or 'CACHE_'", 'connectionEnv');
  }
  return [
    { name: `${prefix}SENTINEL_HOST`, value: sentinelHost },
    { name: `${prefix}SENTINEL_PORT`, value: String(s.sentinelPort) },
    { name: `${prefix}MASTER_NAME`, value: s.masterName },
    ...(s.auth ? [{ name: `${prefix}PASSWORD`, valueFrom: { secretKeyRef: { name: s.auth.secretName, key: s.auth.secretKeys.client } } }] : []),
  ];
}
