import { checkpointOf } from './cluster-watcher.activities';

describe(checkpointOf.name, () => {
  it('keeps a checkpoint of resourceVersions by kind', () => {
    const sut = { resourceVersions: { 'v1|ConfigMap|app.kubernetes.io/managed-by=Helm': '12345', 'apps/v1|Deployment|x': '9' } };
    expect(checkpointOf(sut)).toEqual(sut);
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'resourceVersions'],
    ['an array of versions', { resourceVersions: ['1'] }],
    ['no versions', { resourceVersions: {} }],
    ['only versions that are not resourceVersions', { resourceVersions: { a: 12, b: 'x y', c: '1'.repeat(100) } }],
  ])('starts from a fresh list given %s', (_name, raw) => {
    expect(checkpointOf(raw)).toBeUndefined();
  });

  it('drops the entries that are not resourceVersions and keeps the others', () => {
    expect(checkpointOf({ resourceVersions: { good: '7', bad: { $gt: '' } } })).toEqual({ resourceVersions: { good: '7' } });
  });
});
