import { assessNamespaceHealth, assessObject, HealthReader, summarizeHealth } from './health';
import type { KubeObject } from './kube.types';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function obj(apiVersion: string, kind: string, name: string, body: Record<string, unknown> = {}, generation = 2): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace: 'ns', generation }, ...body };
}
const deployment = (status: Record<string, unknown>, spec: Record<string, unknown> = {}) => obj('apps/v1', 'Deployment', 'web', { spec: { replicas: 2, ...spec }, status });
const HEALTHY_DEPLOYMENT = {
  observedGeneration: 2,
  replicas: 2,
  updatedReplicas: 2,
  availableReplicas: 2,
  conditions: [{ type: 'Available', status: 'True' }],
};
const pod = (status: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({ ...obj('v1', 'Pod', 'web-1', { status }), metadata: { name: 'web-1', namespace: 'ns', ...meta } });

describe(assessObject.name, () => {
  it.each<[string, KubeObject, string, string | null]>([
    ['a Deployment available at its current revision', deployment(HEALTHY_DEPLOYMENT), 'healthy', null],
    ['a Deployment whose new revision is not observed yet', deployment({ ...HEALTHY_DEPLOYMENT, observedGeneration: 1 }), 'progressing', 'the new revision is not yet observed'],
    ['a Deployment still updating replicas', deployment({ ...HEALTHY_DEPLOYMENT, updatedReplicas: 1 }), 'progressing', '1 of 2 replicas updated'],
    ['a Deployment with old replicas left', deployment({ ...HEALTHY_DEPLOYMENT, replicas: 3 }), 'progressing', '1 old replicas pending termination'],
    ['a Deployment short of available replicas', deployment({ ...HEALTHY_DEPLOYMENT, availableReplicas: 0 }), 'progressing', '0 of 2 replicas available'],
    ['a Deployment whose Available condition is False', deployment({ ...HEALTHY_DEPLOYMENT, conditions: [{ type: 'Available', status: 'False' }] }), 'progressing', 'not Available'],
    [
      'a Deployment past its progress deadline',
      deployment({
        ...HEALTHY_DEPLOYMENT,
        availableReplicas: 0,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' }],
      }),
      'unhealthy',
      'progress deadline exceeded: ReplicaSet "web-1" has timed out progressing.',
    ],
    ['a paused Deployment', deployment({ observedGeneration: 1 }, { paused: true }), 'healthy', null],
    [
      'a Deployment of one replica by default',
      obj('apps/v1', 'Deployment', 'web', { spec: {}, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } }),
      'healthy',
      null,
    ],
    [
      'a ready StatefulSet',
      obj('apps/v1', 'StatefulSet', 'db', { spec: { replicas: 1 }, status: { observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'r2', updateRevision: 'r2' } }),
      'healthy',
      null,
    ],
    [
      'a StatefulSet short of ready replicas',
      obj('apps/v1', 'StatefulSet', 'db', { spec: { replicas: 3 }, status: { observedGeneration: 2, readyReplicas: 1 } }),
      'progressing',
      '1 of 3 replicas ready',
    ],
    [
      'a StatefulSet mid-rollout',
      obj('apps/v1', 'StatefulSet', 'db', { spec: { replicas: 1 }, status: { observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' } }),
      'progressing',
      'the rollout of the new revision is not finished',
    ],
    ['a ready DaemonSet', obj('apps/v1', 'DaemonSet', 'agent', { status: { observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 } }), 'healthy', null],
    [
      'a DaemonSet short of available pods',
      obj('apps/v1', 'DaemonSet', 'agent', { status: { observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 } }),
      'progressing',
      '1 of 2 pods available',
    ],
    ['a complete Job', obj('batch/v1', 'Job', 'migrate', { status: { conditions: [{ type: 'Complete', status: 'True' }] } }), 'healthy', null],
    ['a running Job', obj('batch/v1', 'Job', 'migrate', { status: { active: 1 } }), 'progressing', 'not complete'],
    [
      'a failed Job',
      obj('batch/v1', 'Job', 'migrate', { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } }),
      'unhealthy',
      'failed: BackoffLimitExceeded (Job has reached the specified backoff limit)',
    ],
    ['a bound PVC', obj('v1', 'PersistentVolumeClaim', 'data', { status: { phase: 'Bound' } }), 'healthy', null],
    ['a pending PVC', obj('v1', 'PersistentVolumeClaim', 'data', { status: { phase: 'Pending' } }), 'progressing', 'not bound (Pending)'],
    ['a lost PVC', obj('v1', 'PersistentVolumeClaim', 'data', { status: { phase: 'Lost' } }), 'unhealthy', 'its volume is lost'],
    ['a running pod', pod({ phase: 'Running', containerStatuses: [{ name: 'web', restartCount: 0, state: { running: {} } }] }), 'healthy', null],
    [
      'a crash-looping pod',
      pod({ phase: 'Running', containerStatuses: [{ name: 'web', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
      'unhealthy',
      'container web is in CrashLoopBackOff',
    ],
    [
      'a pod whose image cannot be pulled',
      pod({ phase: 'Pending', containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ImagePullBackOff' } } }] }),
      'unhealthy',
      'container web is in ImagePullBackOff',
    ],
    [
      'a pod whose init container crash-loops',
      pod({ phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
      'unhealthy',
      'container init is in CrashLoopBackOff',
    ],
    [
      'a pod that restarted often, lately',
      pod({
        phase: 'Running',
        containerStatuses: [
          { name: 'web', restartCount: 3, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date(NOW - 60_000).toISOString() } } },
        ],
      }),
      'unhealthy',
      'container web restarted 3 times (last exit 137, OOMKilled)',
    ],
    [
      'a pod that restarted often, long ago',
      pod({
        phase: 'Running',
        containerStatuses: [{ name: 'web', restartCount: 9, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: new Date(NOW - 3_600_000).toISOString() } } }],
      }),
      'healthy',
      null,
    ],
    ['an unschedulable pod', pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] }), 'progressing', 'not scheduled (Unschedulable)'],
    ['a failed pod (its controller judges)', pod({ phase: 'Failed', reason: 'Evicted' }), 'healthy', null],
    [
      'a terminating pod',
      pod({ phase: 'Running', containerStatuses: [{ name: 'web', state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      'healthy',
      null,
    ],
    ['a kind it does not judge', obj('v1', 'ConfigMap', 'cfg'), 'healthy', null],
  ])('%s', (_name, o, status, reason) => {
    expect(assessObject(o, NOW)).toEqual({ kind: o.kind, name: o.metadata.name, status, reason });
  });
});

describe(summarizeHealth.name, () => {
  it('is healthy with nothing wrong', () => {
    expect(summarizeHealth([{ kind: 'Deployment', name: 'web', status: 'healthy', reason: null }])).toEqual({ status: 'healthy', reason: null, objects: [] });
  });

  it('names the worst object first and counts the others', () => {
    const sut = summarizeHealth([
      { kind: 'PersistentVolumeClaim', name: 'data', status: 'progressing', reason: 'not bound (Pending)' },
      { kind: 'Pod', name: 'web-1', status: 'unhealthy', reason: 'container web is in CrashLoopBackOff' },
      { kind: 'ConfigMap', name: 'cfg', status: 'healthy', reason: null },
    ]);
    expect(sut.status).toBe('unhealthy');
    expect(sut.reason).toBe('Pod/web-1: container web is in CrashLoopBackOff (and 1 more)');
    expect(sut.objects.map((o) => o.kind)).toEqual(['Pod', 'PersistentVolumeClaim']);
  });
});

describe(assessNamespaceHealth.name, () => {
  function reader(objects: KubeObject[]): HealthReader & { listed: string[] } {
    const listed: string[] = [];
    return {
      listed,
      list: async (_apiVersion, kind, { namespace }) => {
        listed.push(kind);
        return objects.filter((o) => o.kind === kind && o.metadata.namespace === namespace);
      },
    };
  }

  it('lists every assessed kind in the namespace and judges what it finds', async () => {
    const kube = reader([deployment({ ...HEALTHY_DEPLOYMENT, availableReplicas: 1 }), obj('v1', 'PersistentVolumeClaim', 'data', { status: { phase: 'Bound' } })]);
    const sut = await assessNamespaceHealth(kube, 'ns', { now: NOW });
    expect(kube.listed.sort()).toEqual(['DaemonSet', 'Deployment', 'Job', 'PersistentVolumeClaim', 'Pod', 'StatefulSet']);
    expect(sut).toEqual({
      status: 'progressing',
      reason: 'Deployment/web: 1 of 2 replicas available',
      objects: [{ kind: 'Deployment', name: 'web', status: 'progressing', reason: '1 of 2 replicas available' }],
    });
  });

  it('lists only the kinds of the manifest, and pods when it has a workload', async () => {
    const kube = reader([]);
    await assessNamespaceHealth(kube, 'ns', { kinds: new Set(['Deployment', 'PersistentVolumeClaim', 'ConfigMap']), now: NOW });
    expect(kube.listed.sort()).toEqual(['Deployment', 'PersistentVolumeClaim', 'Pod']);
    const quiet = reader([]);
    expect(await assessNamespaceHealth(quiet, 'ns', { kinds: new Set(['ConfigMap']), now: NOW })).toEqual({ status: 'healthy', reason: null, objects: [] });
    expect(quiet.listed).toEqual([]);
  });
});
