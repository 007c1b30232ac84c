import { lazy, Suspense } from 'react';
import type { ValuesFormProps } from './values-form';

// The schema form (react-jsonschema-form) loads with the first page that needs it, keeping it
// out of the JavaScript the deployment list loads.
const Inner = lazy(() => import('./values-form').then((m) => ({ default: m.ValuesForm })));

export function ValuesForm(props: ValuesFormProps) {
  return (
    <Suspense
      fallback={
        <p className="muted" role="status">
          Loading the form…
        </p>
      }
    >
      <Inner {...props} />
    </Suspense>
  );
}
