import type { KubeObject } from '../../../platform/src';
import { ChangeFilter } from './change-filter';

const obj = (name: string, meta: Partial<KubeObject['metadata']> = {}, namespace = 'd-1'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, resourceVersion: '1', ...meta },
});
/** A managedFields entry: who wrote the object, when, and through which subresource. */
const at = (time: string, manager: string, subresource?: string) => ({ manager, time, operation: 'Update', ...(subresource ? { subresource } : {}) });

describe(ChangeFilter.name, () => {
  it('maps a change of an object without generation (ConfigMap, Service) to its namespace on every new resourceVersion', () => {
    const sut = new ChangeFilter();
    sut.replace([obj('cm')]);
    expect(sut.changed('MODIFIED', obj('cm', { resourceVersion: '1' }))).toBeUndefined();
    expect(sut.changed('MODIFIED', obj('cm', { resourceVersion: '2' }))).toBe('d-1');
  });

  it('ignores a status update of an object with a generation, and sees spec, label and annotation changes', () => {
    const sut = new ChangeFilter();
    const deployment = (rv: string, generation: number, extra: Partial<KubeObject['metadata']> = {}) => obj('web', { resourceVersion: rv, generation, labels: { app: 'web' }, ...extra });
    sut.replace([deployment('1', 1)]);
    expect(sut.changed('MODIFIED', deployment('2', 1))).toBeUndefined();
    expect(sut.changed('MODIFIED', deployment('3', 2))).toBe('d-1');
    expect(sut.changed('MODIFIED', deployment('4', 2, { labels: { app: 'tampered' } }))).toBe('d-1');
    expect(sut.changed('MODIFIED', deployment('5', 2, { labels: { app: 'tampered' }, annotations: { a: 'b' } }))).toBe('d-1');
    expect(sut.changed('MODIFIED', deployment('6', 2, { labels: { app: 'tampered' }, annotations: { a: 'b' } }))).toBeUndefined();
  });

  it('reports deletions, unexpected objects appearing, and objects it never saw', () => {
    const sut = new ChangeFilter();
    sut.replace([obj('cm')]);
    expect(sut.changed('DELETED', obj('cm'))).toBe('d-1');
    expect(sut.changed('ADDED', obj('extra', {}, 'd-2'))).toBe('d-2');
    expect(sut.changed('MODIFIED', obj('unknown', { generation: 4 }, 'd-3'))).toBe('d-3');
    expect(sut.size).toBe(2);
  });

  it('ignores a write whose newest field managers are status updates or helm, and sees any other writer', () => {
    const sut = new ChangeFilter();
    const pvc = (rv: string, managedFields: unknown[]) => obj('data', { resourceVersion: rv, managedFields });
    sut.replace([pvc('1', [at('2026-01-01T00:00:00Z', 'helm')])]);
    expect(sut.changed('MODIFIED', pvc('2', [at('2026-01-01T00:00:00Z', 'helm'), at('2026-01-01T00:00:05Z', 'kube-controller-manager', 'status')]))).toBeUndefined();
    expect(sut.changed('MODIFIED', pvc('3', [at('2026-01-01T00:00:09Z', 'helm')]))).toBeUndefined();
    expect(sut.changed('MODIFIED', pvc('4', [at('2026-01-01T00:00:09Z', 'helm'), at('2026-01-01T00:00:09Z', 'kubectl-edit')]))).toBe('d-1');
    expect(sut.changed('MODIFIED', pvc('5', [at('2026-01-01T00:00:09Z', 'helm'), at('2026-01-01T00:01:00Z', 'kubectl', 'scale')]))).toBe('d-1');
    expect(sut.changed('DELETED', pvc('6', [at('2026-01-01T00:00:09Z', 'helm')]))).toBe('d-1');
  });

  it("ignores helm's release Secret writes (field manager Helm), and sees another writer of them", () => {
    const sut = new ChangeFilter();
    const release = (rv: string, managedFields: unknown[]) => obj('sh.helm.release.v1.web.v1', { resourceVersion: rv, labels: { owner: 'helm', status: 'pending-install' }, managedFields });
    expect(sut.changed('ADDED', release('1', [at('2026-01-01T00:00:00Z', 'Helm')]))).toBeUndefined();
    expect(sut.changed('MODIFIED', release('2', [at('2026-01-01T00:00:02Z', 'Helm')]))).toBeUndefined();
    expect(sut.changed('MODIFIED', release('3', [at('2026-01-01T00:00:02Z', 'Helm'), at('2026-01-01T00:01:00Z', 'kubectl-edit')]))).toBe('d-1');
    expect(sut.changed('DELETED', release('4', [at('2026-01-01T00:00:02Z', 'Helm')]))).toBe('d-1');
  });

  it('ignores cluster-scoped objects (a release holds namespaced objects only)', () => {
    const sut = new ChangeFilter();
    expect(sut.changed('ADDED', obj('global', { namespace: undefined }))).toBeUndefined();
  });

  it('answers the namespaces of a fresh list and of what it knows', () => {
    const sut = new ChangeFilter();
    expect([...sut.replace([obj('a'), obj('b', {}, 'd-2'), obj('c', {}, 'd-2')])].sort()).toEqual(['d-1', 'd-2']);
    sut.changed('DELETED', obj('a'));
    expect([...sut.namespaces()]).toEqual(['d-2']);
  });
});
