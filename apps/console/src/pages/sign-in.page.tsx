import { useState } from 'react';
import { ApiError } from '../api/api.client';

export function SignIn({ onSignIn, notice }: { onSignIn: (token: string) => Promise<void>; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main className="signin" id="main">
      <h1>Caelus console</h1>
      <p className="muted">Sign in with the API token an administrator gave you.</p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          if (!token.trim()) {
            setError('Enter your API token.');
            return;
          }
          setBusy(true);
          setError(null);
          try {
            await onSignIn(token.trim());
          } catch (err) {
            setError(err instanceof ApiError && err.status === 401 ? 'That token was not accepted. Check it and try again.' : (err as Error).message);
            setBusy(false);
          }
        }}
      >
        <label htmlFor="api-token">API token</label>
        <input
          id="api-token"
          name="api-token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'api-token-error' : undefined}
        />
        {error && (
          <p id="api-token-error" className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="muted small">The token is kept in this browser tab only and is forgotten when you sign out or close the tab.</p>
    </main>
  );
}
