import { DomainError } from '../../../domain/src';
import type { DeploymentStateService, DesiredState } from '../../../domain/src';
import { desiredWithValues, unrecordedRelease } from './helm.activities';

type State = Pick<DeploymentStateService, 'load' | 'renderValues'>;

const desired = (generation: number, templateId: string) => ({ deploymentId: 'd1', deploymentUid: 'u1', generation, template: { id: templateId } }) as unknown as DesiredState;

describe(desiredWithValues.name, () => {
  it('reads again when a change lands between the desired state and the values', async () => {
    // An upgrade commits between the two reads: generation 1 (chart 1.0.0) then values of generation 2.
    const loads = [desired(1, 'tpl-1.0.0'), desired(2, 'tpl-1.1.0')];
    const renders = [
      { generation: 2, values: { user: { title: 'for 1.1.0' } } },
      { generation: 2, values: { user: { title: 'for 1.1.0' } } },
    ];
    const state: State = { load: jest.fn(async () => loads.shift()!), renderValues: jest.fn(async () => renders.shift()!) };
    const got = await desiredWithValues(state, 'd1');
    expect(got.generation).toBe(2);
    expect(got.d.template.id).toBe('tpl-1.1.0');
    expect(state.load).toHaveBeenCalledTimes(2);
  });

  it('returns at once when both reads see the same generation', async () => {
    const state: State = { load: jest.fn(async () => desired(3, 't')), renderValues: jest.fn(async () => ({ generation: 3, values: {} })) };
    await expect(desiredWithValues(state, 'd1')).resolves.toMatchObject({ generation: 3 });
    expect(state.load).toHaveBeenCalledTimes(1);
  });

  it('gives up with a retryable conflict when the deployment never holds still', async () => {
    let n = 0;
    const state: State = { load: jest.fn(async () => desired(++n, 't')), renderValues: jest.fn(async () => ({ generation: ++n, values: {} })) };
    const err = await desiredWithValues(state, 'd1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('Conflict');
  });
});

describe(unrecordedRelease.name, () => {
  it('fails, retryably, a revision helm reported done while its release Secret is still pending', () => {
    const err = unrecordedRelease({ revision: 3 }, { revision: 3, status: 'pending-upgrade' });
    expect(err).toMatchObject({ name: 'HelmError', kind: 'transient', retryable: true, message: expect.stringContaining('still pending-upgrade') });
    expect(unrecordedRelease({ revision: 1 }, { revision: 1, status: 'pending-install' })).toBeDefined();
  });

  it('accepts a recorded revision, and does not judge another revision or a missing one', () => {
    expect(unrecordedRelease({ revision: 3 }, { revision: 3, status: 'deployed' })).toBeUndefined();
    expect(unrecordedRelease({ revision: 3 }, { revision: 4, status: 'pending-upgrade' })).toBeUndefined();
    expect(unrecordedRelease({ revision: 3 }, undefined)).toBeUndefined();
  });
});
