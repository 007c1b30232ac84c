import { useState } from 'react';
import { ApiError, fetchAll } from '../api/api.client';
import { BUSY_STATUSES, type Deployment, type FieldProblem, type JsonObject, type Template, type UpgradePreview } from '../api/types';
import { DiffView } from '../components/diff-view';
import { Empty, ErrorBox, formatTime, Loading, PageTitle } from '../components/common';
import { StatusBadge } from '../components/status-badge';
import { ValuesForm } from '../components/lazy-values-form';
import { useConsole } from '../context';
import { loadCatalog, useLoad } from '../hooks';
import { href, navigate } from '../router';

const POLL_MS = 2000;

export function DeploymentPage({ userId, id }: { userId: string; id: string }) {
  const { api, session } = useConsole();
  const [editing, setEditing] = useState(false);
  const deployment = useLoad(() => api.getDeployment(userId, id), [userId, id], { pollMs: POLL_MS, poll: (d) => BUSY_STATUSES.includes(d.status) || d.observedGeneration < d.generation });
  const d = deployment.data;
  const busyKey = d ? `${d.status}:${d.generation}:${d.observedGeneration}:${d.updatedAt}` : '';
  const events = useLoad(() => fetchAll((c) => api.events(userId, id, c, 100), 10), [userId, id, busyKey]);
  const catalog = useLoad(() => loadCatalog(api), [api]);

  if (d && (d.status === 'deleting' || d.status === 'deleted') && deployment.error instanceof ApiError && deployment.error.status === 404) {
    return (
      <>
        <PageTitle>{d.domainName}</PageTitle>
        <p className="notice" role="status">
          This deployment has been deleted. <a href={href('/')}>Back to the deployments</a>.
        </p>
      </>
    );
  }
  if (!d) {
    return (
      <>
        <PageTitle>Deployment</PageTitle>
        {deployment.loading ? <Loading what="the deployment" /> : <ErrorBox error={deployment.error} onRetry={deployment.reload} />}
      </>
    );
  }
  const desired = catalog.data?.template(d.desiredTemplateId);
  const applied = catalog.data?.template(d.appliedTemplateId);
  const gone = d.status === 'deleting' || d.status === 'deleted';

  return (
    <>
      <p className="crumbs">
        <a href={href(session.userId === userId ? '/deployments' : session.isAdmin ? '/admin/deployments' : '/')}>← Deployments</a>
      </p>
      <div className="page-head">
        <PageTitle>{d.domainName}</PageTitle>
        <StatusBadge status={d.status} />
      </div>
      {d.status === 'deleted' && (
        <p className="notice" role="status">
          This deployment has been deleted: its release and namespace are gone. Its record and events stay for the audit trail.
        </p>
      )}
      <ErrorBox error={deployment.error} onRetry={deployment.reload} />
      <dl className="facts">
        <dt>Product</dt>
        <dd>{catalog.data?.productName(d.productId) ?? '…'}</dd>
        <dt>Template</dt>
        <dd>
          {desired?.version ?? '…'} desired{applied ? `, ${applied.version} applied` : ', not applied yet'}
        </dd>
        <dt>Generation</dt>
        <dd>
          {d.observedGeneration} applied / {d.generation} desired
        </dd>
        <dt>Last error</dt>
        <dd className="last-error">{d.lastError ?? '—'}</dd>
        <dt>Health</dt>
        <dd className="health">{d.health ? `${d.health.status}${d.health.reason ? `: ${d.health.reason}` : ''} (generation ${d.health.generation})` : '—'}</dd>
        <dt>Last drift check</dt>
        <dd>{formatTime(d.lastDriftCheckAt)}</dd>
        <dt>Last reconcile</dt>
        <dd>{formatTime(d.lastReconcileAt)}</dd>
        <dt>Workflow</dt>
        <dd>
          <a href={d.workflow.uiUrl} target="_blank" rel="noopener noreferrer">
            {d.workflow.id} in the Temporal Web UI
          </a>
        </dd>
      </dl>

      <section aria-labelledby="values-h">
        <div className="section-head">
          <h2 id="values-h">Values</h2>
          {!gone && !editing && (
            <button type="button" onClick={() => setEditing(true)}>
              Edit values
            </button>
          )}
        </div>
        {editing ? (
          <EditValues
            deployment={d}
            template={desired}
            onDone={() => {
              setEditing(false);
              deployment.reload();
            }}
          />
        ) : Object.keys(d.values).length ? (
          <pre className="values" tabIndex={0} aria-label="Values (secrets redacted)">
            {JSON.stringify(d.values, null, 2)}
          </pre>
        ) : (
          <Empty>No values of its own: the template's defaults apply.</Empty>
        )}
      </section>

      {session.isAdmin && !gone && <Upgrade deployment={d} templates={catalog.data?.templates.filter((t) => t.productId === d.productId) ?? []} onDone={deployment.reload} />}

      <section aria-labelledby="events-h">
        <h2 id="events-h">Events</h2>
        <ErrorBox error={events.error} onRetry={events.reload} />
        {events.data && events.data.length === 0 && <Empty>No events yet.</Empty>}
        {events.data && events.data.length > 0 && (
          <ol className="timeline" reversed>
            {[...events.data].reverse().map((e) => (
              <li key={e.id} data-event-type={e.type}>
                <span className="event-type">{e.type}</span>{' '}
                <span className="muted small">
                  generation {e.generation} · {e.actor} · {formatTime(e.createdAt)}
                </span>
                <div>{e.message}</div>
              </li>
            ))}
          </ol>
        )}
      </section>

      {!gone && <DeleteDeployment deployment={d} onDone={deployment.reload} />}
    </>
  );
}

function EditValues({ deployment, template, onDone }: { deployment: Deployment; template: Template | undefined; onDone: () => void }) {
  const { api } = useConsole();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<FieldProblem[]>([]);
  if (!template) return <Loading what="the template's schema" />;
  return (
    <>
      <ErrorBox error={error} />
      <ValuesForm
        valuesSchema={template.valuesSchema}
        initial={deployment.values}
        fieldErrors={fields}
        submitLabel="Save values"
        busy={busy}
        onSubmit={async (values: JsonObject) => {
          setBusy(true);
          setError(null);
          try {
            await api.updateDeployment(deployment.userId, deployment.id, values, deployment.generation);
            onDone();
          } catch (err) {
            setError(err);
            setFields(err instanceof ApiError ? err.fields : []);
            setBusy(false);
          }
        }}
      />
      <p className="muted small">Secrets show as [redacted]; leaving them so keeps the stored secret.</p>
      <button type="button" onClick={onDone} disabled={busy}>
        Cancel
      </button>
    </>
  );
}

function Upgrade({ deployment, templates, onDone }: { deployment: Deployment; templates: Template[]; onDone: () => void }) {
  const { api } = useConsole();
  const candidates = templates.filter((t) => t.id !== deployment.desiredTemplateId);
  const [target, setTarget] = useState('');
  const [preview, setPreview] = useState<UpgradePreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const chosen = target || candidates[candidates.length - 1]?.id || '';

  return (
    <section aria-labelledby="upgrade-h">
      <h2 id="upgrade-h">Upgrade</h2>
      {candidates.length === 0 ? (
        <Empty>No other template version of this product.</Empty>
      ) : (
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            setPreview(null);
            setDone(null);
            try {
              setPreview(await api.previewUpgrade(deployment.userId, deployment.id, chosen));
            } catch (err) {
              setError(err);
            }
            setBusy(false);
          }}
        >
          <label htmlFor="upgrade-target">Target template version</label>
          <select
            id="upgrade-target"
            value={chosen}
            onChange={(e) => {
              setTarget(e.target.value);
              setPreview(null);
            }}
          >
            {candidates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.version}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy}>
            Preview upgrade
          </button>
        </form>
      )}
      <ErrorBox error={error} />
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      {preview && (
        <div className="preview" aria-live="polite">
          <p>
            <strong className={preview.valid ? 'ok' : 'bad'}>{preview.valid ? 'Valid' : 'Not valid'}</strong>: {preview.message}
          </p>
          {preview.problems.length > 0 && (
            <ul className="problems">
              {preview.problems.map((p, i) => (
                <li key={i}>
                  <code>{p.field}</code>: {p.message}
                </li>
              ))}
            </ul>
          )}
          {preview.rendered && <DiffView diff={preview.diff} label={`Changes from ${preview.fromTemplate?.version ?? 'nothing'} to ${preview.toTemplate.version}`} />}
          {preview.valid && (
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(null);
                try {
                  await api.upgrade(deployment.userId, deployment.id, preview.toTemplate.id, preview.generation);
                  setDone(`Upgrade to ${preview.toTemplate.version} requested.`);
                  setPreview(null);
                  onDone();
                } catch (err) {
                  setError(err);
                }
                setBusy(false);
              }}
            >
              Upgrade to {preview.toTemplate.version}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

function DeleteDeployment({ deployment, onDone }: { deployment: Deployment; onDone: () => void }) {
  const { api } = useConsole();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section aria-labelledby="delete-h" className="danger-zone">
      <h2 id="delete-h">Delete</h2>
      {!open ? (
        <button type="button" className="danger" onClick={() => setOpen(true)}>
          Delete this deployment…
        </button>
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            if (typed !== deployment.domainName) return;
            setBusy(true);
            try {
              await api.deleteDeployment(deployment.userId, deployment.id);
              setOpen(false);
              onDone();
            } catch (err) {
              setError(err);
            }
            setBusy(false);
          }}
        >
          <p>
            This removes the app and its data. Type <strong>{deployment.domainName}</strong> to confirm.
          </p>
          <label htmlFor="confirm-domain">Domain name</label>
          <input id="confirm-domain" autoComplete="off" autoFocus value={typed} onChange={(e) => setTyped(e.target.value)} />
          <div className="form-actions">
            <button type="submit" className="danger" disabled={busy || typed !== deployment.domainName}>
              Delete {deployment.domainName}
            </button>
            <button
              type="button"
              onClick={() => {
                setOpen(false);
                setTyped('');
              }}
            >
              Cancel
            </button>
          </div>
          <ErrorBox error={error} />
        </form>
      )}
    </section>
  );
}

export function goToDeployment(d: Deployment): void {
  navigate(`/users/${d.userId}/deployments/${d.id}`);
}
