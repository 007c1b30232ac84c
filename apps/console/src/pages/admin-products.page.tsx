import { Validator } from '@cfworker/json-schema';
import { useState } from 'react';
import { ApiError, fetchAll } from '../api/api.client';
import type { JsonObject, NewTemplate } from '../api/types';
import { DocumentEditor, useParsed, type EditorState } from '../components/document-editor';
import { Empty, ErrorBox, formatTime, Loading, PageTitle } from '../components/common';
import { useConsole } from '../context';
import { invalidateCatalog, useLoad } from '../hooks';
import { href } from '../router';

export function AdminProductsPage() {
  const { api } = useConsole();
  const products = useLoad(() => fetchAll((c) => api.listProducts(c)), [api]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);

  return (
    <>
      <PageTitle>Products</PageTitle>
      <section aria-labelledby="new-product-h">
        <h2 id="new-product-h">New product</h2>
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              await api.createProduct(name.trim(), description.trim());
              invalidateCatalog();
              setName('');
              setDescription('');
              products.reload();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <label htmlFor="product-name">Name</label>
          <input id="product-name" required maxLength={40} value={name} onChange={(e) => setName(e.target.value)} />
          <label htmlFor="product-description">Description</label>
          <input id="product-description" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
          <button type="submit" className="primary">
            Create product
          </button>
        </form>
        <ErrorBox error={error} />
      </section>
      <section aria-labelledby="products-h">
        <h2 id="products-h">All products</h2>
        <ErrorBox error={products.error} onRetry={products.reload} />
        {!products.data && products.loading && <Loading what="products" />}
        {products.data?.length === 0 && <Empty>No products yet: create one above, then publish a template version for it.</Empty>}
        {products.data && products.data.length > 0 && (
          <ul className="cards">
            {products.data.map((p) => (
              <li key={p.id}>
                <a href={href(`/admin/products/${p.id}`)}>{p.name}</a>
                <span className="muted small"> {p.description}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

const EMPTY: EditorState = { text: '', format: 'yaml' };

function checkSchema(v: JsonObject | undefined): string | null {
  if (!v) return null;
  try {
    new Validator(v, '7');
  } catch (err) {
    return `not a usable JSON Schema: ${(err as Error).message}`;
  }
  return null;
}

export function AdminProductPage({ productId }: { productId: string }) {
  const { api } = useConsole();
  const product = useLoad(() => fetchAll((c) => api.listProducts(c)).then((all) => all.find((p) => p.id === productId) ?? null), [productId]);
  const templates = useLoad(() => fetchAll((c) => api.listTemplates(productId, c)), [productId]);
  const [form, setForm] = useState({ version: '', chartRef: '', chartVersion: '', chartDigest: '' });
  const [defaults, setDefaults] = useState<EditorState>(EMPTY);
  const [schema, setSchema] = useState<EditorState>({ ...EMPTY, format: 'json' });
  const [caps, setCaps] = useState<EditorState>({ ...EMPTY, format: 'json' });
  const parsedDefaults = useParsed(defaults);
  const parsedSchema = useParsed(schema, checkSchema);
  const parsedCaps = useParsed(caps);
  const [error, setError] = useState<unknown>(null);
  const [published, setPublished] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editorsValid = !parsedDefaults.problem && !parsedSchema.problem && !parsedCaps.problem;
  const fieldError = (name: string) =>
    error instanceof ApiError
      ? error.fields
          .filter((f) => f.field === name || f.field.startsWith(`${name}.`))
          .map((f) => f.message)
          .join('; ')
      : '';

  return (
    <>
      <p className="crumbs">
        <a href={href('/admin/products')}>← Products</a>
      </p>
      <PageTitle>{product.data ? `Product ${product.data.name}` : 'Product'}</PageTitle>
      {product.data === null && <ErrorBox error={new Error('There is no such product.')} />}
      <ErrorBox error={product.error} onRetry={product.reload} />
      <section aria-labelledby="templates-h">
        <h2 id="templates-h">Template versions</h2>
        <ErrorBox error={templates.error} onRetry={templates.reload} />
        {!templates.data && templates.loading && <Loading what="template versions" />}
        {templates.data?.length === 0 && <Empty>No template version yet: publish the first one below.</Empty>}
        {templates.data && templates.data.length > 0 && (
          <div className="table-wrap" role="region" aria-label="Template versions" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Chart</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Schema</th>
                  <th scope="col">Published</th>
                </tr>
              </thead>
              <tbody>
                {templates.data.map((t) => (
                  <tr key={t.id}>
                    <td>{t.version}</td>
                    <td className="wrap">
                      {t.chartRef} {t.chartVersion}
                    </td>
                    <td className="wrap">{t.chartDigest ?? '—'}</td>
                    <td>{t.valuesSchema ? 'yes' : 'no'}</td>
                    <td>{formatTime(t.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="publish-h">
        <h2 id="publish-h">Publish a template version</h2>
        <form
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            if (!editorsValid) return;
            setBusy(true);
            setError(null);
            setPublished(null);
            const body: NewTemplate = { version: form.version.trim(), chartRef: form.chartRef.trim(), chartVersion: form.chartVersion.trim() };
            if (form.chartDigest.trim()) body.chartDigest = form.chartDigest.trim();
            if (parsedDefaults.value) body.defaultValues = parsedDefaults.value;
            if (parsedSchema.value) body.valuesSchema = parsedSchema.value;
            if (parsedCaps.value) body.capabilities = parsedCaps.value;
            try {
              const t = await api.createTemplate(productId, body);
              invalidateCatalog();
              setPublished(`Version ${t.version} is published.`);
              templates.reload();
            } catch (err) {
              setError(err);
            }
            setBusy(false);
          }}
        >
          <div className="form-grid">
            {(
              [
                ['version', 'Version', '1.2.0'],
                ['chartRef', 'Chart reference', 'oci://registry.example.com/charts/webapp'],
                ['chartVersion', 'Chart version', '1.2.0'],
                ['chartDigest', 'Chart digest (required for oci://)', 'sha256:…'],
              ] as const
            ).map(([key, label, placeholder]) => (
              <div className="field" key={key}>
                <label htmlFor={`t-${key}`}>{label}</label>
                <input
                  id={`t-${key}`}
                  value={form[key]}
                  placeholder={placeholder}
                  autoComplete="off"
                  onChange={(e) => setForm({ ...form, [key]: e.target.value })}
                  aria-invalid={fieldError(key) ? true : undefined}
                  aria-describedby={fieldError(key) ? `t-${key}-error` : undefined}
                />
                {fieldError(key) && (
                  <p className="field-error" id={`t-${key}-error`}>
                    {fieldError(key)}
                  </p>
                )}
              </div>
            ))}
          </div>
          <DocumentEditor
            id="t-defaults"
            label="Default values"
            state={defaults}
            onChange={setDefaults}
            problem={parsedDefaults.problem ?? (fieldError('defaultValues') || null)}
            hint="The chart's full default values (values.yaml)."
          />
          <DocumentEditor
            id="t-schema"
            label="Values schema"
            state={schema}
            onChange={setSchema}
            problem={parsedSchema.problem ?? (fieldError('valuesSchema') || null)}
            hint='JSON Schema of the merged values; mark secrets with "x-caelus-secret": true.'
          />
          <DocumentEditor
            id="t-capabilities"
            label="Capabilities"
            state={caps}
            onChange={setCaps}
            problem={parsedCaps.problem ?? (fieldError('capabilities') || null)}
            hint="Optional: quota, limits, upgradePolicy."
          />
          <ErrorBox error={error} />
          {published && (
            <p className="notice" role="status">
              {published}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy || !editorsValid}>
              {busy ? 'Publishing…' : 'Publish template version'}
            </button>
          </div>
        </form>
      </section>
    </>
  );
}
