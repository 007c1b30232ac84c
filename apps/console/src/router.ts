import { useSyncExternalStore } from 'react';

// Routes live in the URL fragment (#/…): the server never sees them, so they cannot collide
// with the REST routes (/users/…) the API serves on the same origin.

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

const current = () => window.location.hash.replace(/^#/, '') || '/';

export function useHashPath(): string {
  return useSyncExternalStore(subscribe, current, () => '/');
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export const href = (path: string) => `#${path}`;

/** Matches `/users/:userId/deployments/:id` style patterns; null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('?')[0].split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}
