import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DomainError, DomainErrorCode } from '../../../domain/src';
import { ConfinementError, HelmError, HelmErrorKind, KubeError, ReleaseStorageError } from '../../../platform/src';
import { classified, DOMAIN_FAILURES, HELM_FAILURE_TYPES, sourceOf, toActivityFailure } from './activity-errors';

describe(toActivityFailure.name, () => {
  it.each([
    [new HelmError('invalid-values', 'values do not meet the schema'), 'InvalidValues', true],
    [new HelmError('chart-not-found', 'chart not found'), 'ChartNotFound', true],
    [new HelmError('forbidden', 'forbidden'), 'Forbidden', true],
    [new HelmError('timeout', 'timed out waiting'), 'HelmError', false],
    [new HelmError('pending', 'another operation is in progress'), 'HelmError', false],
    [new KubeError('conflict', 409, 'Conflict', true), 'KubernetesError', false],
    [new KubeError('throttled', 429, 'TooManyRequests', true), 'KubernetesError', false],
    [new KubeError('forbidden', 403, 'Forbidden', false), 'Forbidden', true],
    [new DomainError('InvalidValues', 'bad values', [{ field: '/user/title', message: 'too long' }]), 'InvalidValues', true],
    [new DomainError('Conflict', 'busy'), 'Conflict', false],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'DatabaseUnavailable', false],
    [new Error('something odd'), 'Unexpected', false],
    [new ConfinementError('rendered manifest', [{ rule: 'namespaced', kind: 'ClusterRole', name: 'x', message: 'ClusterRole "x": cluster-scoped' }]), 'Confinement', true],
    [new ReleaseStorageError('helm release Secret is not trusted: its owner label is not "helm"'), 'ReleaseStorageInvalid', true],
  ])('classifies %s', (err, type, nonRetryable) => {
    const sut = toActivityFailure(err, 'step');
    expect(sut).toBeInstanceOf(ApplicationFailure);
    expect(sut.type).toBe(type);
    expect(sut.nonRetryable).toBe(nonRetryable);
    expect(sut.message.startsWith('step: ')).toBe(true);
  });

  it('names the failing fields of invalid values without their values', () => {
    const sut = toActivityFailure(new DomainError('InvalidValues', 'values do not match', [{ field: '/user/title', message: 'must be at most 100 characters' }]), 'upgrade');
    expect(sut.message).toBe('upgrade: values do not match: /user/title must be at most 100 characters');
  });

  // Every kind is listed here by hand: a kind added to HelmErrorKind fails typecheck in the table and this test until it is classified.
  const helmKinds: Record<HelmErrorKind, [type: string, nonRetryable: boolean]> = {
    'invalid-values': ['InvalidValues', true],
    'chart-not-found': ['ChartNotFound', true],
    forbidden: ['Forbidden', true],
    pending: ['HelmError', false],
    timeout: ['HelmError', false],
    transient: ['HelmError', false],
  };
  it.each(Object.entries(helmKinds))('maps the helm error kind %s', (kind, [type, nonRetryable]) => {
    const sut = toActivityFailure(new HelmError(kind as HelmErrorKind, 'helm said no'), 'step');
    expect({ type: sut.type, nonRetryable: sut.nonRetryable, details: sut.details }).toEqual({ type, nonRetryable, details: [{ kind }] });
    expect(HELM_FAILURE_TYPES[kind as HelmErrorKind]).toBe(type);
  });

  const domainCodes: Record<DomainErrorCode, [type: string, nonRetryable: boolean]> = {
    InvalidInput: ['InvalidInput', true],
    InvalidValues: ['InvalidValues', true],
    Unauthenticated: ['Unauthenticated', true],
    Forbidden: ['Forbidden', true],
    NotFound: ['NotFound', true],
    Conflict: ['Conflict', false],
    Unavailable: ['Unavailable', false],
  };
  it.each(Object.entries(domainCodes))('maps the domain error code %s', (code, [type, nonRetryable]) => {
    const sut = toActivityFailure(new DomainError(code as DomainErrorCode, 'no'), 'step');
    expect({ type: sut.type, nonRetryable: sut.nonRetryable }).toEqual({ type, nonRetryable });
    expect(DOMAIN_FAILURES[code as DomainErrorCode]).toEqual({ type, retryable: !nonRetryable });
  });

  it.each([
    [new KubeError('not found', 404, 'NotFound', false), 'KubernetesError', true],
    [new KubeError('server error', 500, 'InternalError', true), 'KubernetesError', false],
    [new KubeError('connection refused', undefined, 'NetworkError', true), 'KubernetesError', false],
  ])('maps a Kubernetes error by its status: %s', (err, type, nonRetryable) => {
    const sut = toActivityFailure(err, 'step');
    expect({ type: sut.type, nonRetryable: sut.nonRetryable }).toEqual({ type, nonRetryable });
  });

  it('passes an already classified failure through unchanged', () => {
    const failure = ApplicationFailure.create({ message: 'done before', type: 'Custom', nonRetryable: true });
    expect(toActivityFailure(failure, 'step')).toBe(failure);
  });

  it('tells every source apart', () => {
    expect(sourceOf(new HelmError('timeout', 't')).source).toBe('helm');
    expect(sourceOf(new ReleaseStorageError('x')).source).toBe('release-storage');
    expect(sourceOf(new ConfinementError('m', [])).source).toBe('confinement');
    expect(sourceOf(new KubeError('k', 500, undefined, true)).source).toBe('kubernetes');
    expect(sourceOf(new DomainError('Conflict', 'c')).source).toBe('domain');
    expect(sourceOf(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).source).toBe('database');
    expect(sourceOf('a string').source).toBe('unknown');
  });
});

describe(classified.name, () => {
  it('classifies what the activity threw, or reports it cancelled when the workflow cancelled it', async () => {
    const helmStopped = () => Promise.reject(new HelmError('transient', 'helm upgrade was cancelled'));
    await expect(classified('helm upgrade', helmStopped)).rejects.toMatchObject({ type: 'HelmError' });

    const env = new MockActivityEnvironment();
    env.cancel('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
    const cancelled = await env.run(() => classified('helm upgrade', helmStopped)).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(CancelledFailure);
    expect((cancelled as CancelledFailure).message).toBe('helm upgrade: cancelled by the workflow');

    // A worker shutting down is not the workflow's cancellation: the failure stays a failure (retried elsewhere).
    const shutdown = new MockActivityEnvironment();
    shutdown.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    await expect(shutdown.run(() => classified('helm upgrade', helmStopped))).rejects.toMatchObject({ type: 'HelmError' });
  });
});
