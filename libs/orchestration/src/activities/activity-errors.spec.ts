import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../../../domain/src';
import { ConfinementError, HelmError, KubeError, ReleaseStorageError } from '../../../platform/src';
import { toActivityFailure } from './activity-errors';

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
});
