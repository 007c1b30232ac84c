import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { toActivityFailure } from '../activities/activity-errors';
import { DeploymentMetrics } from '../activities/metrics.port';
import { HelmError } from '../../../platform/src';
import { activityMetricsInterceptor, failureLabels } from './activity-metrics.interceptor';

describe(activityMetricsInterceptor.name, () => {
  const input: ActivityExecuteInput = { args: [{ deploymentId: 'd1' }], headers: {} };
  const ctx = { info: { activityType: 'applyRelease' } } as never;

  function setup(activityFailed: DeploymentMetrics['activityFailed'] = jest.fn()) {
    const inbound = activityMetricsInterceptor({ activityFailed })(ctx).inbound!;
    return { execute: (next: () => Promise<unknown>) => inbound.execute!(input, next), activityFailed };
  }

  it('passes results through and counts nothing on success', async () => {
    const sut = setup();
    await expect(sut.execute(async () => 'ok')).resolves.toBe('ok');
    expect(sut.activityFailed).not.toHaveBeenCalled();
  });

  it('counts a classified failure by activity and type, and rethrows the same error', async () => {
    const sut = setup();
    const failure = toActivityFailure(new HelmError('invalid-values', 'values do not meet the schema'), 'helm upgrade');
    await expect(sut.execute(() => Promise.reject(failure))).rejects.toBe(failure);
    expect(sut.activityFailed).toHaveBeenCalledWith({ activity: 'applyRelease', type: 'InvalidValues', nonRetryable: true });
  });

  it('still rethrows the activity error when reporting throws', async () => {
    const sut = setup(() => {
      throw new Error('metrics broke');
    });
    const failure = ApplicationFailure.retryable('busy', 'HelmError');
    await expect(sut.execute(() => Promise.reject(failure))).rejects.toBe(failure);
  });
});

describe(failureLabels.name, () => {
  it.each([
    [ApplicationFailure.nonRetryable('no chart', 'ChartNotFound'), { type: 'ChartNotFound', nonRetryable: true }],
    [ApplicationFailure.retryable('timeout', 'HelmError'), { type: 'HelmError', nonRetryable: false }],
    [ApplicationFailure.create({ message: 'untyped' }), { type: 'ApplicationFailure', nonRetryable: false }],
    [new CancelledFailure('cancelled'), { type: 'Cancelled', nonRetryable: false }],
    [new TypeError('boom'), { type: 'TypeError', nonRetryable: false }],
    ['a string', { type: 'Error', nonRetryable: false }],
  ])('labels %s', (err, labels) => {
    expect(failureLabels(err)).toEqual(labels);
  });
});
