import { useState } from 'react';
import type { CreatedUser } from '../api/types';
import { Empty, ErrorBox, formatTime, Loading, PageTitle, Pager } from '../components/common';
import { useConsole } from '../context';
import { useLoad } from '../hooks';
import { href } from '../router';

export function AdminUsersPage() {
  const { api } = useConsole();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const users = useLoad(() => api.listUsers(cursors[cursors.length - 1], 50), [cursors]);
  const [email, setEmail] = useState('');
  const [isAdmin, setIsAdmin] = useState(false);
  const [created, setCreated] = useState<CreatedUser | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  return (
    <>
      <PageTitle>Users</PageTitle>
      <section aria-labelledby="new-user-h">
        <h2 id="new-user-h">New user</h2>
        <form
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            setCopied(false);
            try {
              setCreated(await api.createUser(email.trim(), isAdmin));
              setEmail('');
              setIsAdmin(false);
              users.reload();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <label htmlFor="new-user-email">E-mail</label>
          <input id="new-user-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <label className="checkbox">
            <input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.target.checked)} /> Administrator
          </label>
          <button type="submit" className="primary">
            Create user
          </button>
        </form>
        <ErrorBox error={error} />
        {created && (
          <div className="token-once" role="status">
            <p>
              <strong>{created.email}</strong> was created. Copy the API token now: it is shown only once.
            </p>
            <label htmlFor="new-token">API token of {created.email}</label>
            <div className="copy-row">
              <input id="new-token" readOnly value={created.apiToken} onFocus={(e) => e.target.select()} />
              <button
                type="button"
                onClick={async () => {
                  try {
                    await navigator.clipboard.writeText(created.apiToken);
                    setCopied(true);
                  } catch {
                    (document.getElementById('new-token') as HTMLInputElement | null)?.select();
                  }
                }}
              >
                {copied ? 'Copied' : 'Copy'}
              </button>
              <button type="button" onClick={() => setCreated(null)}>
                Done
              </button>
            </div>
          </div>
        )}
      </section>
      <section aria-labelledby="users-h">
        <h2 id="users-h">All users</h2>
        <ErrorBox error={users.error} onRetry={users.reload} />
        {!users.data && users.loading && <Loading what="users" />}
        {users.data?.items.length === 0 && <Empty>No users yet.</Empty>}
        {users.data && users.data.items.length > 0 && (
          <div className="table-wrap" role="region" aria-label="Users" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id}>
                    <td>{u.email}</td>
                    <td>{u.isAdmin ? 'admin' : 'user'}</td>
                    <td>{formatTime(u.createdAt)}</td>
                    <td className="actions">
                      <a href={href(`/users/${u.id}/deployments`)}>Deployments</a>
                      {confirming === u.id ? (
                        <>
                          <button
                            type="button"
                            className="danger"
                            onClick={async () => {
                              setError(null);
                              try {
                                await api.deleteUser(u.id);
                                users.reload();
                              } catch (err) {
                                setError(err);
                              }
                              setConfirming(null);
                            }}
                          >
                            Really delete {u.email}
                          </button>
                          <button type="button" onClick={() => setConfirming(null)}>
                            Cancel
                          </button>
                        </>
                      ) : (
                        <button type="button" onClick={() => setConfirming(u.id)}>
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager
          label="Users"
          hasPrev={cursors.length > 1}
          hasNext={!!users.data?.nextCursor}
          onPrev={() => setCursors((c) => c.slice(0, -1))}
          onNext={() => setCursors((c) => [...c, users.data!.nextCursor])}
        />
      </section>
    </>
  );
}
