// One plan feeds the launch script and the step list; they must agree.
import { Duration, Testing } from 'cdk8s';
import { launchPlan, RedisSentinel, RedisSentinelProps, renderLaunchScript, renderStepsJson, renderStepsMarkdown, resolveSettings } from '../src';

const FILE = 'redis-sentinel.k8s.yaml';

function planFor(props: RedisSentinelProps = {}) {
  const redis = new RedisSentinel(Testing.chart(), 'Redis', props);
  return launchPlan(redis.settings, [{ file: FILE }]);
}

describe('launch plan', () => {
  const plan = planFor();
  const script = renderLaunchScript(plan);
  const steps = JSON.parse(renderStepsJson(plan));

  test('is the seed tutorial\'s sequence, after the Secret', () => {
    expect(plan.steps.map((s) => s.title)).toEqual([
      'Create the Secret redis-auth with random passwords, unless it exists',
      'On a relaunch: survey the pods; only if no master exists anywhere and no pod holds data, start afresh',
      'Apply the manifests in order',
      'On a relaunch: wait until one master is named by every sentinel',
      'Wait for the bootstrap master and its sentinel',
      'Scale both controllers to 3 redis and 3 sentinels',
      'Wait until the replicas are in sync and the sentinels have quorum',
      'Delete the bootstrap pod',
      'Wait until a new master is elected and both controllers are back at full count',
      'Print where the master is',
    ]);
    expect(plan.steps.map((s) => s.actions.map((a) => a.type))).toEqual([
      ['create-secret'], ['survey', 'start-afresh'], ['apply', 'apply'], ['wait'], ['wait'], ['scale', 'scale'], ['wait', 'wait'],
      ['delete-pod'], ['wait', 'wait', 'wait', 'wait'], ['report'],
    ]);
  });

  test('without auth there is no Secret to create', () => {
    expect(planFor({ auth: false }).steps[0].title).toBe('On a relaunch: survey the pods; only if no master exists anywhere and no pod holds data, start afresh');
  });

  test('a first launch applies the instance\'s objects; a relaunch all but the bootstrap pod', () => {
    expect(plan.steps[2].actions).toEqual([
      { type: 'apply', file: FILE, selector: 'app.kubernetes.io/name=redis,app.kubernetes.io/instance=redis', when: 'first-launch' },
      { type: 'apply', file: FILE, selector: 'app.kubernetes.io/name=redis,app.kubernetes.io/instance=redis,app.kubernetes.io/component!=bootstrap', when: 'relaunch' },
    ]);
  });

  test('a relaunch surveys first; it gives the pods their discovery timeout to found a cluster before it starts afresh', () => {
    expect(plan.steps[1].when).toBe('relaunch');
    expect(plan.steps[1].actions).toEqual([
      { type: 'survey', foundSeconds: 120 },
      { type: 'start-afresh', controllers: ['redis', 'redis-sentinel'], timeoutSeconds: 120 },
    ]);
    expect(planFor({ discoveryTimeout: Duration.seconds(45) }).steps[1].actions[0]).toEqual({ type: 'survey', foundSeconds: 45 });
    expect(script).toContain([
      'if [[ "$LAUNCHED" == yes ]]; then', '  relaunch_survey 120', '  if starting_afresh; then',
      '    k delete rc redis redis-sentinel --ignore-not-found --wait=true --timeout=120s', '    launch_afresh', '  fi',
    ].join('\n'));
  });

  test('every wait has a timeout, a description and a hint of what to look at', () => {
    for (const a of plan.steps.flatMap((s) => s.actions)) {
      if (a.type !== 'wait') continue;
      expect(a.timeoutSeconds).toBeGreaterThan(0);
      expect(a.until).not.toBe('');
      expect(a.hint).toMatch(/kubectl/);
    }
  });

  test('the script runs the steps of the step list, in its order, with its titles', () => {
    const scriptSteps = [...script.matchAll(/^step (\d+) '([^']*)'$/gm)].map((m) => ({ number: Number(m[1]), title: m[2] }));
    expect(scriptSteps).toEqual(steps.steps.map((s: any) => ({ number: s.number, title: s.title })));
    expect(script).toContain(`STEP_COUNT='${steps.steps.length}'`);
  });

  test('the script performs each action of the step list, in order, with the kubectl words the list shows', () => {
    // The step list's text of a kubectl action is the command; the script runs the same words, with
    // manifests found in $MANIFEST_DIR and fresh passwords in $RANDOM_FILES.
    const kubectl = (text: string) => text.replace(/ \([^)]*\)$/, '').replace(/^kubectl /, 'k ')
      .replace(/-f (\S+)/, `-f "$MANIFEST_DIR"/'$1'`)
      .replace(/--from-file=([a-z-]+)=<32 random bytes>/g, `--from-file=$1="$RANDOM_FILES"/'$1'`)
      .replace(/-l (\S*!\S*)/, "-l '$1'");
    const expected = steps.steps.flatMap((s: any) => s.actions.flatMap((a: any) => {
      switch (a.type) {
        case 'create-secret': return [`if secret_missing '${a.secret}'; then`, `make_random_files ${a.keys.map((k: string) => `'${k}'`).join(' ')}`,
          kubectl(a.text), 'remove_random_files', 'fi'];
        case 'apply': return [`on_${a.when.replace('-', '_')} ${kubectl(a.text)}`];
        case 'survey': return [`relaunch_survey ${a.foundSeconds}`];
        case 'start-afresh': return ['if starting_afresh; then', kubectl(a.text.replace(/^only if [^:]*: /, '').replace(/, then the first launch's steps$/, '')), 'launch_afresh', 'fi'];
        case 'scale': return [kubectl(a.text)];
        case 'delete-pod': return [`note_deleted_pod_ip '${a.pod}'`, kubectl(a.text)];
        case 'wait': return [`wait_until ${a.timeoutSeconds} '${a.until}'`];
        default: return ['report_master'];
      }
    }));
    const body = script.slice(script.indexOf('\ndetect_launched\n'));
    const calls = body.split('\n').map((l) => l.trim())
      .filter((l) => /^(k|if secret_missing|make_random_files|remove_random_files|fi|on_first_launch|on_relaunch|relaunch_survey|if starting_afresh|launch_afresh|wait_until|note_deleted_pod_ip|report_master)\b/.test(l))
      .filter((l, i, all) => l !== 'fi' || ['remove_random_files', 'launch_afresh'].includes(all[i - 1]))
      .map((l) => (l.startsWith('wait_until') ? l.replace(/^(wait_until \d+ '[^']*').*$/, '$1') : l));
    expect(calls).toEqual(expected);
    expect(calls).toContain('k scale rc redis --replicas=3');
    expect(calls).toContain('k delete pod redis-master --ignore-not-found --wait=true --timeout=120s');
  });

  test('every check of a wait reaches the script with its arguments', () => {
    const waits = plan.steps.flatMap((s) => s.actions).filter((a) => a.type === 'wait');
    const lines = script.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('wait_until '));
    expect(lines.map((l) => l.replace(/^.*' /, ''))).toEqual(waits.map((a) => {
      const c = (a as any).condition;
      return [`check_${c.type.replace(/-/g, '_')}`, c.redisPods ?? c.sentinels].filter((x) => x !== undefined).join(' ');
    }));
  });

  test('takes settings and manifest files, with no chart', () => {
    const p = launchPlan(resolveSettings({ name: 'cache' }), [{ file: 'a.yaml' }, { file: 'b.yaml' }], { manifestDir: '../..' });
    expect(p.files).toEqual(['a.yaml', 'b.yaml']);
    expect(p.steps[2].actions.map((a: any) => `${a.file} ${a.when}`)).toEqual(['a.yaml first-launch', 'a.yaml relaunch', 'b.yaml first-launch', 'b.yaml relaunch']);
    expect(p.context).toMatchObject({ manifestDir: '../..', bootstrapPod: 'cache-master', bootstrapRedisContainer: 'master', redisContainer: 'redis', sentinelContainer: 'sentinel' });
    expect(renderLaunchScript(p)).toContain("MANIFEST_PATH='../..'");
  });

  test('the script and the step list name the same files, controllers and pod', () => {
    expect(steps.files).toEqual(plan.files);
    for (const name of ['redis-master', 'redis-sentinel', 'mymaster', 'name=redis', 'redis-sentinel=true']) {
      expect(script).toContain(`'${name}'`);
    }
    expect(renderStepsMarkdown(plan)).toContain('kubectl scale rc redis --replicas=3');
    expect(renderStepsMarkdown(plan)).toContain(`kubectl apply -f ${FILE} -l app.kubernetes.io/name=redis,app.kubernetes.io/instance=redis (first launch only)`);
  });

  test('a second run skips only the bootstrap wait and the scale, and only it surveys', () => {
    expect(plan.steps.filter((s) => s.when === 'first-launch').map((s) => s.number)).toEqual([5, 6]);
    expect(plan.steps.filter((s) => s.when === 'relaunch').map((s) => s.number)).toEqual([2, 4]);
    expect(renderStepsMarkdown(plan)).toContain('only if the cluster is still lost (no master, no data): kubectl delete rc redis redis-sentinel');
  });

  test('follows the props: names, namespace, replicas, timeouts', () => {
    const other = planFor({ name: 'cache', namespace: 'apps', redisReplicas: 5, sentinelReplicas: 5, quorum: 3 });
    const text = renderLaunchScript(other);
    expect(text).toContain("NAMESPACE=${NAMESPACE:-'apps'}");
    expect(text).toContain('k scale rc cache --replicas=5');
    expect(text).toContain('k scale rc cache-sentinel --replicas=5');
    expect(renderStepsMarkdown(other)).toContain('kubectl -n apps delete pod cache-master --ignore-not-found --wait=true --timeout=120s');
    expect(text).toContain("BOOTSTRAP_POD='cache-master'");
    expect(text).toContain('kubectl -n apps logs -l cache-sentinel=true -c sentinel');
    expect(text).toContain("if secret_missing 'cache-auth'; then");
  });

  test('quotes every value it puts into bash', () => {
    const { shq } = require('../src/launch/render');
    expect(shq("it's")).toBe("'it'\\''s'");
  });
});
