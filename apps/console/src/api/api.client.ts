import type { AllDeploymentsPage, CreatedUser, Deployment, DeploymentEvent, FieldProblem, JsonObject, NewTemplate, Page, Product, Session, Template, UpgradePreview, User } from './types';

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: FieldProblem[] = [],
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  token: string;
  /** Called on every 401: the token is no longer accepted, the console asks for a new one. */
  onUnauthorized?: (message: string) => void;
  fetchFn?: typeof fetch;
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  ifMatch?: number;
}

function queryString(query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

const seg = encodeURIComponent;

/** The REST API on the same origin, with the bearer token; the token never goes into a URL. */
export class ApiClient {
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.fetchFn = options.fetchFn ?? ((input, init) => fetch(input, init));
  }

  /** The token this client sends (to match a request made before sign-in finished with it). */
  get token(): string {
    return this.options.token;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${this.options.token}` };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.ifMatch !== undefined) headers['If-Match'] = String(opts.ifMatch);
    let res: Response;
    try {
      res = await this.fetchFn(`${path}${queryString(opts.query)}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, `The API could not be reached (${err instanceof Error ? err.message : String(err)}). Check your connection and try again.`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (!res.ok) {
      const b = (body ?? {}) as { message?: unknown; fields?: unknown; requestId?: unknown };
      const message = typeof b.message === 'string' && b.message ? b.message : `${res.status} ${res.statusText || 'error'}`;
      const fields = Array.isArray(b.fields) ? (b.fields as FieldProblem[]).filter((f) => f && typeof f.field === 'string' && typeof f.message === 'string') : [];
      const error = new ApiError(res.status, message, fields, typeof b.requestId === 'string' ? b.requestId : undefined);
      if (res.status === 401) this.options.onUnauthorized?.(message);
      throw error;
    }
    if (body === undefined) throw new ApiError(res.status, 'The API answered with something that is not JSON.');
    return body as T;
  }

  session = () => this.request<Session>('GET', '/session');

  listUsers = (cursor?: string | null, limit = 50) => this.request<Page<User>>('GET', '/users', { query: { limit, cursor } });
  createUser = (email: string, isAdmin: boolean) => this.request<CreatedUser>('POST', '/users', { body: { email, isAdmin } });
  deleteUser = (userId: string) => this.request<void>('DELETE', `/users/${seg(userId)}`);

  listProducts = (cursor?: string | null, limit = 100) => this.request<Page<Product>>('GET', '/products', { query: { limit, cursor } });
  createProduct = (name: string, description: string) => this.request<Product>('POST', '/products', { body: description ? { name, description } : { name } });
  deleteProduct = (productId: string) => this.request<void>('DELETE', `/products/${seg(productId)}`);

  listTemplates = (productId: string, cursor?: string | null, limit = 100) => this.request<Page<Template>>('GET', `/products/${seg(productId)}/templates`, { query: { limit, cursor } });
  getTemplate = (productId: string, templateId: string) => this.request<Template>('GET', `/products/${seg(productId)}/templates/${seg(templateId)}`);
  createTemplate = (productId: string, t: NewTemplate) => this.request<Template>('POST', `/products/${seg(productId)}/templates`, { body: t });
  deleteTemplate = (productId: string, templateId: string) => this.request<void>('DELETE', `/products/${seg(productId)}/templates/${seg(templateId)}`);

  listDeployments = (userId: string, q: { status?: string; cursor?: string | null; limit?: number } = {}) =>
    this.request<Page<Deployment>>('GET', `/users/${seg(userId)}/deployments`, { query: { limit: q.limit ?? 20, status: q.status, cursor: q.cursor } });
  getDeployment = (userId: string, id: string) => this.request<Deployment>('GET', `/users/${seg(userId)}/deployments/${seg(id)}`);
  createDeployment = (userId: string, body: { templateId: string; domainName: string; values: JsonObject }) => this.request<Deployment>('POST', `/users/${seg(userId)}/deployments`, { body });
  updateDeployment = (userId: string, id: string, values: JsonObject, generation: number) =>
    this.request<Deployment>('PUT', `/users/${seg(userId)}/deployments/${seg(id)}`, { body: { values }, ifMatch: generation });
  deleteDeployment = (userId: string, id: string) => this.request<Deployment>('DELETE', `/users/${seg(userId)}/deployments/${seg(id)}`);
  events = (userId: string, id: string, cursor?: string | null, limit = 50) =>
    this.request<Page<DeploymentEvent>>('GET', `/users/${seg(userId)}/deployments/${seg(id)}/events`, { query: { limit, cursor } });
  previewUpgrade = (userId: string, id: string, templateId: string) =>
    this.request<UpgradePreview>('POST', `/users/${seg(userId)}/deployments/${seg(id)}/upgrade`, { body: { templateId }, query: { dryRun: true } });
  upgrade = (userId: string, id: string, templateId: string, generation: number) =>
    this.request<Deployment>('POST', `/users/${seg(userId)}/deployments/${seg(id)}/upgrade`, { body: { templateId }, ifMatch: generation });
  /** Every user's deployments (admins), with counts over all pages. */
  listAllDeployments = (q: { status?: string; productId?: string; templateId?: string; cursor?: string | null; limit?: number } = {}) =>
    this.request<AllDeploymentsPage>('GET', '/deployments', { query: { limit: q.limit ?? 100, status: q.status, productId: q.productId, templateId: q.templateId, cursor: q.cursor } });
}

/** Every page of a list, for the small catalogues (products, templates, users). */
export async function fetchAll<T>(load: (cursor: string | null) => Promise<Page<T>>, maxPages = 50): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = await load(cursor);
    out.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return out;
}
