import { useEffect, useState } from 'react';
import type { JsonObject } from '../api/types';

export type DocFormat = 'json' | 'yaml';

/** Parses an editor's text as a JSON object (YAML loads on demand: only admins publish templates). */
export async function parseDocument(text: string, format: DocFormat): Promise<JsonObject | undefined> {
  if (!text.trim()) return undefined;
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  } else {
    const { parse } = await import('yaml');
    try {
      value = parse(text);
    } catch (err) {
      throw new Error(`not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
  }
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('must be an object (a mapping), not a list or a scalar');
  return value as JsonObject;
}

export interface EditorState {
  text: string;
  format: DocFormat;
}

/** A text editor for a JSON or YAML document; says whether it parses as the user types. */
export function DocumentEditor({
  id,
  label,
  state,
  onChange,
  problem,
  hint,
}: {
  id: string;
  label: string;
  state: EditorState;
  onChange: (s: EditorState) => void;
  problem: string | null;
  hint?: string;
}) {
  return (
    <div className="field doc-editor">
      <div className="doc-editor-head">
        <label htmlFor={id}>{label}</label>
        <span role="group" aria-label={`${label} format`} className="format-switch">
          {(['yaml', 'json'] as const).map((f) => (
            <label key={f} className="radio">
              <input type="radio" name={`${id}-format`} value={f} checked={state.format === f} onChange={() => onChange({ ...state, format: f })} />
              {f.toUpperCase()}
            </label>
          ))}
        </span>
      </div>
      <textarea
        id={id}
        rows={10}
        spellCheck={false}
        value={state.text}
        onChange={(e) => onChange({ ...state, text: e.target.value })}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-status`}
      />
      <p id={`${id}-status`} className={problem ? 'field-error' : 'muted small'}>
        {problem ?? (state.text.trim() ? `Valid ${state.format.toUpperCase()}.` : (hint ?? 'Empty.'))}
      </p>
    </div>
  );
}

/** Live parse status of an editor. */
export function useParsed(state: EditorState, check?: (v: JsonObject | undefined) => string | null): { value: JsonObject | undefined; problem: string | null } {
  const [result, setResult] = useState<{ value: JsonObject | undefined; problem: string | null }>({ value: undefined, problem: null });
  useEffect(() => {
    let live = true;
    parseDocument(state.text, state.format).then(
      (value) => live && setResult({ value, problem: check?.(value) ?? null }),
      (err: Error) => live && setResult({ value: undefined, problem: err.message }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.text, state.format]);
  return result;
}
