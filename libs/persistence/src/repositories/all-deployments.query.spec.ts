import { DeploymentEntity } from '../entities';
import { LISTED_COLUMNS, listedFromRow, ListedRow } from './all-deployments.query';

describe(listedFromRow.name, () => {
  const row: ListedRow = {
    id: 'd1',
    userId: 'u1',
    productId: 'p1',
    deploymentUid: 'abc',
    domainName: 'app.example.com',
    desiredTemplateId: 't2',
    appliedTemplateId: 't1',
    userValues: { title: 'x' },
    generation: 2,
    observedGeneration: 1,
    status: 'upgrading',
    lastError: null,
    lastReconcileAt: '2026-11-30T12:21:33.526Z',
    lastDriftCheckAt: null,
    driftSummary: null,
    createdAt: '2026-11-29T08:00:00.001Z',
    updatedAt: '2026-11-30T12:21:33.526Z',
    deletedAt: null,
    suspendedAt: '2026-11-30T12:30:00.000Z',
    suspendedReason: 'maintenance',
    health: null,
    ownerEmail: 'ada@example.com',
    productName: 'webapp',
    desiredTemplateVersion: '1.1.0',
    appliedTemplateVersion: null,
  };

  it('makes the entity with dates from the ISO text, and the names beside it', () => {
    const sut = listedFromRow(row);
    expect(sut.deployment).toBeInstanceOf(DeploymentEntity);
    expect(sut.deployment).toMatchObject({ id: 'd1', userId: 'u1', status: 'upgrading', generation: 2, observedGeneration: 1, userValues: { title: 'x' }, lastDriftCheckAt: null, deletedAt: null });
    expect(sut.deployment.createdAt.toISOString()).toBe('2026-11-29T08:00:00.001Z');
    expect(sut.deployment.lastReconcileAt?.toISOString()).toBe('2026-11-30T12:21:33.526Z');
    expect(sut.deployment.suspendedAt?.toISOString()).toBe('2026-11-30T12:30:00.000Z');
    expect(sut.deployment.suspendedReason).toBe('maintenance');
    expect(sut).toMatchObject({ ownerEmail: 'ada@example.com', productName: 'webapp', desiredTemplateVersion: '1.1.0', appliedTemplateVersion: null });
  });

  it('is given every column the query selects, and nothing else', () => {
    expect(LISTED_COLUMNS.map(([, alias]) => alias).sort()).toEqual(Object.keys(row).sort());
  });
});
