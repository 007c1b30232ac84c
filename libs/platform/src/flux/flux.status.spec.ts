import type { KubeObject } from '../kubernetes/kube.types';
import { deployedRevision, FluxCondition, needsForce, readOutcome, toHelmError } from './flux.status';

const hr = (status: Record<string, unknown>, generation = 2): KubeObject => ({
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name: 'web', namespace: 'web', generation },
  status,
});
const cond = (type: string, status: FluxCondition['status'], reason: string, message = '', observedGeneration = 2): FluxCondition => ({ type, status, reason, message, observedGeneration });

describe('Flux status', () => {
  describe(readOutcome.name, () => {
    it('is pending until helm-controller handled this apply’s request for the current generation', () => {
      expect(readOutcome(undefined, undefined, 't1')).toMatchObject({ state: 'pending' });
      // Ready from the previous apply: another request token.
      expect(readOutcome(hr({ lastHandledReconcileAt: 't0', conditions: [cond('Ready', 'True', 'UpgradeSucceeded')] }), undefined, 't1')).toMatchObject({ state: 'pending' });
      // This request, but the condition still describes the previous generation.
      expect(readOutcome(hr({ lastHandledReconcileAt: 't1', conditions: [cond('Ready', 'True', 'InstallSucceeded', '', 1)] }), undefined, 't1')).toMatchObject({ state: 'pending' });
      expect(readOutcome(hr({ lastHandledReconcileAt: 't1', conditions: [cond('Ready', 'Unknown', 'Progressing', 'Running upgrade')] }), undefined, 't1')).toEqual({
        state: 'pending',
        detail: 'Ready=Unknown Progressing: Running upgrade',
      });
    });

    it('is ready with the deployed revision', () => {
      const status = {
        lastHandledReconcileAt: 't1',
        conditions: [cond('Ready', 'True', 'UpgradeSucceeded')],
        history: [
          { version: 3, status: 'deployed' },
          { version: 2, status: 'superseded' },
        ],
      };
      expect(readOutcome(hr(status), undefined, 't1')).toEqual({ state: 'ready', revision: 3 });
      expect(deployedRevision(hr(status))).toBe(3);
    });

    it('fails with the helm backend’s error kinds: bad values are final, a timeout is retried', () => {
      const schema = readOutcome(
        hr({
          lastHandledReconcileAt: 't1',
          conditions: [
            cond(
              'Ready',
              'False',
              'UpgradeFailed',
              "Helm upgrade failed for release web/web with chart webapp@1.0.0: values don't meet the specifications of the schema(s) in the following chart(s):\nwebapp:\n- at '/user/theme': value must be one of 'light', 'dark'",
            ),
          ],
        }),
        undefined,
        't1',
      );
      expect(schema).toMatchObject({ state: 'failed', error: { kind: 'invalid-values', retryable: false, details: { operation: 'upgrade' } } });
      expect(schema.state === 'failed' && schema.error.message).toBe(
        "flux: Helm upgrade failed for release web/web with chart webapp@1.0.0: values don't meet the specifications of the schema(s) in the following chart(s): webapp: - at '/user/theme': value must be one of 'light', 'dark'",
      );
      const timeout = readOutcome(
        hr({ lastHandledReconcileAt: 't1', conditions: [cond('Ready', 'False', 'InstallFailed', 'Helm install failed for release web/web: context deadline exceeded')] }),
        undefined,
        't1',
      );
      expect(timeout).toMatchObject({ state: 'failed', error: { kind: 'timeout', retryable: true, details: { operation: 'install' } } });
      const forbidden = readOutcome(
        hr({
          lastHandledReconcileAt: 't1',
          conditions: [cond('Ready', 'False', 'InstallFailed', 'clusterroles.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:web:caelus-tenant" cannot create resource')],
        }),
        undefined,
        't1',
      );
      expect(forbidden).toMatchObject({ state: 'failed', error: { kind: 'forbidden', retryable: false } });
    });

    it('reports the rollback Flux made after a failed upgrade', () => {
      const outcome = readOutcome(
        hr({
          lastHandledReconcileAt: 't1',
          conditions: [cond('Ready', 'False', 'RollbackSucceeded', 'Helm rollback to previous release web/web.v2 succeeded'), cond('Remediated', 'True', 'RollbackSucceeded', 'rolled back')],
          history: [
            { version: 4, status: 'deployed' },
            { version: 3, status: 'failed' },
            { version: 2, status: 'superseded' },
          ],
        }),
        undefined,
        't1',
      );
      expect(outcome).toMatchObject({ state: 'failed', rolledBack: { failedRevision: 3, revision: 4 } });
    });

    it('waits while the chart is being pulled and fails, for good, when the pull failed', () => {
      const waiting = hr({ lastHandledReconcileAt: 't1', conditions: [cond('Ready', 'False', 'SourceNotReady', "OCIRepository 'web/web' is not ready")] });
      const source = (conditions: FluxCondition[]): KubeObject => ({
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name: 'web', generation: 1 },
        status: { conditions },
      });
      expect(readOutcome(waiting, undefined, 't1')).toMatchObject({ state: 'pending' });
      expect(readOutcome(waiting, source([cond('Reconciling', 'True', 'Progressing', 'building artifact', 1)]), 't1')).toMatchObject({ state: 'pending' });
      const pullFailed = "failed to pull artifact from 'oci://127.0.0.1:5001/x/webapp': GET http://127.0.0.1:5001/v2/x/webapp/manifests/sha256:00: MANIFEST_UNKNOWN: manifest unknown";
      const failed = readOutcome(waiting, source([cond('Ready', 'False', 'OCIArtifactPullFailed', pullFailed, 1), cond('FetchFailed', 'True', 'OCIArtifactPullFailed', pullFailed, 1)]), 't1');
      expect(failed).toMatchObject({ state: 'failed', error: { kind: 'chart-not-found', retryable: false, details: { operation: 'pull' } } });
    });

    it('keeps values out of what it reports', () => {
      const scrub = (t: string) => t.replaceAll('hunter2-secret', '[redacted]');
      const outcome = readOutcome(
        hr({ lastHandledReconcileAt: 't1', conditions: [cond('Ready', 'False', 'UpgradeFailed', 'error converting YAML: "hunter2-secret" is invalid: ')] }),
        undefined,
        't1',
        scrub,
      );
      expect(outcome.state === 'failed' && outcome.error.message).not.toContain('hunter2');
    });
  });

  describe(needsForce.name, () => {
    it('forces a new attempt after a failure Flux gave up on, not while the chart is pulled or after a success', () => {
      expect(needsForce(undefined)).toBe(false);
      expect(needsForce(hr({ conditions: [cond('Ready', 'True', 'InstallSucceeded')] }))).toBe(false);
      expect(needsForce(hr({ conditions: [cond('Ready', 'False', 'SourceNotReady')] }))).toBe(false);
      expect(needsForce(hr({ conditions: [cond('Ready', 'False', 'InstallFailed')] }))).toBe(true);
      expect(needsForce(hr({ conditions: [cond('Ready', 'Unknown', 'Progressing'), cond('Stalled', 'True', 'RetriesExceeded')] }))).toBe(true);
    });
  });

  describe(toHelmError.name, () => {
    it('says it comes from Flux, on one line, shortened', () => {
      const err = toHelmError(`line one\nline two ${'x'.repeat(600)}`, 'upgrade');
      expect(err.message.startsWith('flux: line one line two')).toBe(true);
      expect(err.message.length).toBeLessThanOrEqual(500);
      expect(err.kind).toBe('transient');
    });
  });
});
