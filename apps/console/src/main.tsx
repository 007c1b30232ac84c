import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { prefetchAllDeployments } from './pages/admin-deployments.page';
import { tokenStore } from './session';
import './styles.css';

// The admin's list of every deployment is the console's largest read: with a kept token it
// starts now, side by side with the session check, rather than after it.
const token = tokenStore.get();
if (token && window.location.hash === '#/admin/deployments') prefetchAllDeployments(token);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
