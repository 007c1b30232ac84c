import { fluxDriftReports } from './flux.drift-events';

describe(fluxDriftReports.name, () => {
  const event = (over: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.abc', namespace: 'web-1', uid: 'uid-1' }, count: 1, ...over });
  const corrected = event({
    reason: 'DriftCorrected',
    lastTimestamp: '2026-12-01T10:00:05Z',
    message: 'Cluster state of release web-1/web-1.v2 has been corrected:\nConfigMap/web-1/web-1-config created\nDeployment/web-1/web-1 configured\nService/web-1/web-1 unchanged',
  });

  it('reads the objects helm-controller re-applied: created ones were missing, configured ones modified', () => {
    expect(fluxDriftReports([corrected], new Date('2026-12-01T10:00:00Z'))).toEqual([
      {
        at: new Date('2026-12-01T10:00:05Z'),
        corrected: true,
        objects: [
          { kind: 'ConfigMap', name: 'web-1-config', reason: 'missing' },
          { kind: 'Deployment', name: 'web-1', reason: 'modified' },
        ],
        summary: 'Cluster state of release web-1/web-1.v2 has been corrected:',
        key: 'uid-1#1',
      },
    ]);
  });

  it('keeps what happened since the last check, to the second (Event times have no finer precision), oldest first', () => {
    const later = event({ ...corrected, metadata: { ...corrected.metadata, uid: 'uid-2' }, lastTimestamp: '2026-12-01T10:01:00Z' });
    expect(fluxDriftReports([later, corrected], new Date('2026-12-01T10:00:05.700Z')).map((r) => r.key)).toEqual(['uid-1#1', 'uid-2#1']);
    expect(fluxDriftReports([later, corrected], new Date('2026-12-01T10:00:06Z')).map((r) => r.key)).toEqual(['uid-2#1']);
  });

  it('reports a failed correction, counts repeated Events once per occurrence, and reads events.k8s.io times', () => {
    const failed = event({
      reason: 'DriftCorrectionFailed',
      count: 3,
      series: { lastObservedTime: '2026-12-01T10:02:00.123456Z' },
      message: 'Failed to correct cluster state of release web-1/web-1.v2:\nDeployment/web-1/web-1 dry-run failed: forbidden',
    });
    expect(fluxDriftReports([failed], new Date('2026-12-01T10:00:00Z'))).toEqual([
      { at: new Date('2026-12-01T10:02:00.123Z'), corrected: false, objects: [], summary: 'Failed to correct cluster state of release web-1/web-1.v2:', key: 'uid-1#3' },
    ]);
  });

  it('ignores the HelmRelease’s other Events', () => {
    expect(fluxDriftReports([event({ reason: 'InstallSucceeded', lastTimestamp: '2026-12-01T10:00:05Z', message: 'Helm install succeeded' })], new Date(0))).toEqual([]);
  });
});
