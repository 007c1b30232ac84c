import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiClient, ApiError } from './api/api.client';
import type { Session } from './api/types';
import { Ctx } from './context';
import { href, matchPath, useHashPath } from './router';
import { tokenStore } from './session';
import { SignIn } from './pages/sign-in.page';
import { DeploymentsPage } from './pages/deployments.page';
import { DeploymentPage } from './pages/deployment.page';
import { NewDeploymentPage } from './pages/new-deployment.page';
import { AdminUsersPage } from './pages/admin-users.page';
import { AdminProductsPage, AdminProductPage } from './pages/admin-products.page';
import { AdminDeploymentsPage } from './pages/admin-deployments.page';
import { ErrorBox, PageTitle } from './components/common';

interface Signed {
  api: ApiClient;
  session: Session;
}

export function App() {
  const [signed, setSigned] = useState<Signed | null>(null);
  const [restoring, setRestoring] = useState(() => tokenStore.get() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message: string | null) => {
    tokenStore.clear();
    setSigned(null);
    setNotice(message);
  }, []);

  const signIn = useCallback(
    async (token: string): Promise<void> => {
      const api = new ApiClient({ token, onUnauthorized: (m) => signOut(`You have been signed out: the API no longer accepts this token (${m}). Sign in again.`) });
      // A wrong token answers 401 here; the sign-in form shows that itself.
      const session = await new ApiClient({ token }).session();
      tokenStore.set(token);
      setNotice(null);
      setSigned({ api, session });
    },
    [signOut],
  );

  useEffect(() => {
    const token = tokenStore.get();
    if (!token) return;
    signIn(token)
      .catch((err: unknown) => {
        tokenStore.clear();
        setNotice(err instanceof ApiError && err.status === 401 ? 'Your session has ended: sign in again.' : `Could not restore the session: ${(err as Error).message}`);
      })
      .finally(() => setRestoring(false));
  }, [signIn]);

  if (restoring) return <p className="muted centered">Loading the console…</p>;
  if (!signed) return <SignIn onSignIn={signIn} notice={notice} />;
  return (
    <Ctx.Provider value={signed}>
      <Shell session={signed.session} onSignOut={() => signOut('You have signed out.')} />
    </Ctx.Provider>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const path = useHashPath();
  const links = useMemo(() => {
    const l: { to: string; label: string }[] = [];
    if (session.userId) l.push({ to: '/deployments', label: 'My deployments' }, { to: '/deployments/new', label: 'New deployment' });
    if (session.isAdmin) l.push({ to: '/admin/deployments', label: 'All deployments' }, { to: '/admin/users', label: 'Users' }, { to: '/admin/products', label: 'Products' });
    return l;
  }, [session]);

  return (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href('/')}>
          Caelus
        </a>
        <nav aria-label="Main">
          <ul>
            {links.map((l) => (
              <li key={l.to}>
                <a href={href(l.to)} aria-current={path === l.to ? 'page' : undefined}>
                  {l.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami">
          <span>
            {session.email ?? 'bootstrap admin'}
            {session.isAdmin && <span className="role">admin</span>}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes path={path} session={session} key={path} />
      </main>
    </>
  );
}

function Routes({ path, session }: { path: string; session: Session }) {
  const isAdminPath = path.startsWith('/admin');
  if (isAdminPath && !session.isAdmin) {
    return (
      <>
        <PageTitle>Not available</PageTitle>
        <ErrorBox error={new Error('This page is for admins only.')} />
      </>
    );
  }
  let m: Record<string, string> | null;
  if (path === '/' || path === '') {
    // The bootstrap admin token has no user and so no deployments of its own.
    return session.userId ? <DeploymentsPage userId={session.userId} /> : <AdminDeploymentsPage />;
  }
  if (path === '/deployments' && session.userId) return <DeploymentsPage userId={session.userId} />;
  if (path === '/deployments/new' && session.userId) return <NewDeploymentPage userId={session.userId} />;
  if ((m = matchPath('/users/:userId/deployments/new', path))) return <NewDeploymentPage userId={m.userId} />;
  if ((m = matchPath('/users/:userId/deployments/:id', path))) return <DeploymentPage userId={m.userId} id={m.id} />;
  if ((m = matchPath('/users/:userId/deployments', path))) return <DeploymentsPage userId={m.userId} />;
  if (path === '/admin/users') return <AdminUsersPage />;
  if (path === '/admin/products') return <AdminProductsPage />;
  if ((m = matchPath('/admin/products/:productId', path))) return <AdminProductPage productId={m.productId} />;
  if (path === '/admin/deployments') return <AdminDeploymentsPage />;
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>
        There is nothing at <code>{path}</code>. <a href={href('/')}>Go to the start page</a>.
      </p>
    </>
  );
}
