import Form from '@rjsf/core';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { useMemo, useState } from 'react';
import type { FieldProblem, JsonObject } from '../api/types';
import { cspSafeValidator } from './schema-validator';

/**
 * The part of a template's schema a user fills in: `properties.user` (the API validates user
 * values under `user`), with the root's definitions so its $refs still resolve.
 */
export function userSchema(valuesSchema: JsonObject | null | undefined): RJSFSchema | null {
  const props = (valuesSchema?.properties ?? undefined) as Record<string, unknown> | undefined;
  const user = props?.user as RJSFSchema | undefined;
  if (!user || typeof user !== 'object') return null;
  const { description: _d, ...rest } = user;
  return { ...rest, definitions: valuesSchema?.definitions as RJSFSchema['definitions'], $defs: valuesSchema?.$defs } as RJSFSchema;
}

function resolveRef(schema: RJSFSchema, root: RJSFSchema): RJSFSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[part];
  return (node as RJSFSchema) ?? schema;
}

/** Fields marked `"x-caelus-secret": true` become password inputs, however deep. */
export function secretUiSchema(schema: RJSFSchema, root: RJSFSchema = schema, depth = 0): UiSchema {
  const ui: UiSchema = {};
  if (depth > 20) return ui;
  const s = resolveRef(schema, root);
  if ((s as Record<string, unknown>)['x-caelus-secret'] === true) ui['ui:widget'] = 'password';
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    if (child && typeof child === 'object') {
      const sub = secretUiSchema(child, root, depth + 1);
      if (Object.keys(sub).length) ui[key] = sub;
    }
  }
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) {
    const sub = secretUiSchema(s.items, root, depth + 1);
    if (Object.keys(sub).length) ui.items = sub;
  }
  return ui;
}

/**
 * The API's 400 `fields` for values (`/user/a/b`, JSON pointers into the merged document) as
 * react-jsonschema-form errors next to their fields; anything else lands on the form itself.
 */
export function fieldErrorsToErrorSchema(fields: FieldProblem[]): ErrorSchema {
  const root: Record<string, unknown> = {};
  const add = (node: Record<string, unknown>, message: string) => {
    const errs = (node.__errors as string[] | undefined) ?? [];
    node.__errors = [...errs, message];
  };
  for (const f of fields) {
    const path = f.field.startsWith('/user') ? f.field.slice('/user'.length) : null;
    if (path === null) {
      if (f.field.startsWith('/')) add(root, `${f.field}: ${f.message}`);
      continue;
    }
    let node = root;
    for (const part of path.split('/').filter(Boolean)) {
      node[part] = node[part] ?? {};
      node = node[part] as Record<string, unknown>;
    }
    add(node, f.message);
  }
  return root as ErrorSchema;
}

export interface ValuesFormProps {
  valuesSchema: JsonObject | null | undefined;
  initial: JsonObject;
  fieldErrors: FieldProblem[];
  submitLabel: string;
  busy?: boolean;
  onSubmit: (values: JsonObject) => void;
  /** Extra fields rendered before the schema's (the domain name on create). */
  children?: React.ReactNode;
}

/** The values form generated from a template's JSON Schema; falls back to a JSON editor without one. */
export function ValuesForm({ valuesSchema, initial, fieldErrors, submitLabel, busy, onSubmit, children }: ValuesFormProps) {
  const schema = useMemo(() => userSchema(valuesSchema), [valuesSchema]);
  const uiSchema = useMemo<UiSchema>(() => (schema ? { ...secretUiSchema(schema), 'ui:submitButtonOptions': { norender: true } } : {}), [schema]);
  const [formData, setFormData] = useState<JsonObject>(initial);
  const extraErrors = useMemo(() => fieldErrorsToErrorSchema(fieldErrors), [fieldErrors]);

  if (!schema) return <JsonValuesForm initial={initial} fieldErrors={fieldErrors} submitLabel={submitLabel} busy={busy} onSubmit={onSubmit} before={children} />;

  return (
    <Form
      schema={schema}
      uiSchema={uiSchema}
      validator={cspSafeValidator}
      formData={formData}
      onChange={(e) => setFormData((e.formData ?? {}) as JsonObject)}
      onSubmit={(e) => onSubmit((e.formData ?? {}) as JsonObject)}
      // Errors show next to their fields; without a handler rjsf would also log them to the console.
      onError={() => undefined}
      extraErrors={extraErrors}
      showErrorList={false}
      noHtml5Validate
      idPrefix="values"
      className="values-form"
      disabled={busy}
    >
      {children}
      <SubmitRow busy={busy} label={submitLabel} />
    </Form>
  );
}

function JsonValuesForm({
  initial,
  fieldErrors,
  submitLabel,
  busy,
  onSubmit,
  before,
}: {
  initial: JsonObject;
  fieldErrors: FieldProblem[];
  submitLabel: string;
  busy?: boolean;
  onSubmit: (v: JsonObject) => void;
  before?: React.ReactNode;
}) {
  const [text, setText] = useState(JSON.stringify(initial, null, 2));
  const [problem, setProblem] = useState<string | null>(null);
  const serverProblems = fieldErrors.filter((f) => f.field.startsWith('/'));
  return (
    <form
      className="values-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        try {
          const v: unknown = JSON.parse(text);
          if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('values must be a JSON object');
          setProblem(null);
          onSubmit(v as JsonObject);
        } catch (err) {
          setProblem((err as Error).message);
        }
      }}
    >
      {before}
      <label htmlFor="values-json">Values (JSON; this template has no schema)</label>
      <textarea
        id="values-json"
        rows={10}
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-invalid={problem || serverProblems.length ? true : undefined}
        aria-describedby="values-json-errors"
      />
      <div id="values-json-errors" className="field-error">
        {problem}
        {serverProblems.map((f) => `${f.field}: ${f.message}`).join('; ')}
      </div>
      <SubmitRow busy={busy} label={submitLabel} />
    </form>
  );
}

/** The form's submit button, which says so while the request is on its way. */
function SubmitRow({ busy, label }: { busy?: boolean; label: string }) {
  return (
    <div className="form-actions">
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Sending…' : label}
      </button>
    </div>
  );
}
