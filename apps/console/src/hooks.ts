import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchAll, type ApiClient } from './api/api.client';
import type { Product, Template } from './api/types';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `deps`, and again every `pollMs` while `poll(data)` says so. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], opts: { pollMs?: number; poll?: (data: T) => boolean } = {}): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const pollRef = useRef(opts.poll);
  const dataRef = useRef<T | undefined>(undefined);
  pollRef.current = opts.poll;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    const run = () => {
      loadRef.current().then(
        (data) => {
          if (!live) return;
          dataRef.current = data;
          setState({ data, loading: false });
          if (opts.pollMs && pollRef.current?.(data)) timer = setTimeout(run, opts.pollMs);
        },
        (error: Error) => {
          if (!live) return;
          // A passing failure (the API restarting, a network blip) does not end live updates.
          const status = (error as { status?: number }).status ?? 0;
          const last = dataRef.current;
          if (opts.pollMs && last !== undefined && pollRef.current?.(last) && (status === 0 || status >= 500)) timer = setTimeout(run, opts.pollMs * 2);
          setState((s) => ({ data: s.data, error, loading: false }));
        },
      );
    };
    run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface Catalog {
  products: Product[];
  templates: Template[];
  productName(id: string): string;
  template(id: string | null): Template | undefined;
}

let cached: { api: ApiClient; at: number; promise: Promise<Catalog> } | undefined;

/** Products and their templates, shared by the pages for 30 s (they change rarely). */
export function loadCatalog(api: ApiClient, fresh = false): Promise<Catalog> {
  if (!fresh && cached && cached.api === api && Date.now() - cached.at < 30_000) return cached.promise;
  const promise = (async () => {
    const products = await fetchAll((c) => api.listProducts(c));
    const templates = (await Promise.all(products.map((p) => fetchAll((c) => api.listTemplates(p.id, c))))).flat();
    const byProduct = new Map(products.map((p) => [p.id, p.name]));
    const byTemplate = new Map(templates.map((t) => [t.id, t]));
    return {
      products,
      templates,
      productName: (id: string) => byProduct.get(id) ?? id.slice(0, 8),
      template: (id: string | null) => (id ? byTemplate.get(id) : undefined),
    };
  })();
  cached = { api, at: Date.now(), promise };
  promise.catch(() => {
    if (cached?.promise === promise) cached = undefined;
  });
  return promise;
}

export function invalidateCatalog(): void {
  cached = undefined;
}
