import { useState } from 'react';
import { ApiError } from '../api/api.client';
import type { FieldProblem, JsonObject } from '../api/types';
import { Empty, ErrorBox, Loading, PageTitle } from '../components/common';
import { ValuesForm } from '../components/lazy-values-form';
import { useConsole } from '../context';
import { loadCatalog, useLoad } from '../hooks';
import { href } from '../router';
import { goToDeployment } from './deployment.page';

export function NewDeploymentPage({ userId }: { userId: string }) {
  const { api } = useConsole();
  const catalog = useLoad(() => loadCatalog(api), [api]);
  const [productId, setProductId] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [domainName, setDomainName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<FieldProblem[]>([]);
  const [busy, setBusy] = useState(false);

  if (!catalog.data) {
    return (
      <>
        <PageTitle>New deployment</PageTitle>
        {catalog.loading ? <Loading what="products" /> : <ErrorBox error={catalog.error} onRetry={catalog.reload} />}
      </>
    );
  }
  const products = catalog.data.products.filter((p) => catalog.data!.templates.some((t) => t.productId === p.id));
  const product = products.find((p) => p.id === productId) ?? products[0];
  const templates = catalog.data.templates.filter((t) => t.productId === product?.id);
  const template = templates.find((t) => t.id === templateId) ?? templates[templates.length - 1];
  const domainErrors = fields.filter((f) => f.field === 'domainName');
  const defaults = ((template?.defaultValues as JsonObject | undefined)?.user ?? {}) as JsonObject;

  return (
    <>
      <PageTitle>New deployment</PageTitle>
      {products.length === 0 ? (
        <Empty>No product has a published template yet. Ask an administrator to publish one.</Empty>
      ) : (
        <>
          <div className="form-grid">
            <div className="field">
              <label htmlFor="product">Product</label>
              <select
                id="product"
                value={product?.id}
                onChange={(e) => {
                  setProductId(e.target.value);
                  setTemplateId('');
                }}
              >
                {products.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="template">Template version</label>
              <select id="template" value={template?.id} onChange={(e) => setTemplateId(e.target.value)}>
                {templates.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.version}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="domain-name">Domain name</label>
              <input
                id="domain-name"
                required
                autoComplete="off"
                placeholder="myapp.apps.example.com"
                value={domainName}
                onChange={(e) => setDomainName(e.target.value)}
                aria-invalid={domainErrors.length ? true : undefined}
                aria-describedby={domainErrors.length ? 'domain-name-error' : undefined}
              />
              {domainErrors.length > 0 && (
                <p id="domain-name-error" className="field-error">
                  {domainErrors.map((f) => f.message).join('; ')}
                </p>
              )}
            </div>
          </div>
          {product?.description && <p className="muted">{product.description}</p>}
          <ErrorBox error={error} />
          {template && (
            <ValuesForm
              key={template.id}
              valuesSchema={template.valuesSchema}
              initial={defaults}
              fieldErrors={fields}
              submitLabel="Create deployment"
              busy={busy}
              onSubmit={async (values) => {
                setBusy(true);
                setError(null);
                try {
                  goToDeployment(await api.createDeployment(userId, { templateId: template.id, domainName: domainName.trim(), values }));
                } catch (err) {
                  setError(err);
                  setFields(err instanceof ApiError ? err.fields : []);
                  setBusy(false);
                }
              }}
            />
          )}
          <p>
            <a href={href('/')}>Cancel</a>
          </p>
        </>
      )}
    </>
  );
}
