import { Principal } from '../../libs/domain/src/auth/principal';
import { DeploymentsServiceDeps } from '../../libs/domain/src/deployments/deployment-access';
import { DomainError } from '../../libs/domain/src/errors';
import { SecretBox, ValuesValidator } from '../../libs/domain/src/values';
import {
  fakeDataSource,
  fakeDeploymentsRepository,
  fakeEventsRepository,
  fakeProductsRepository,
  FakeRenderer,
  FakeStore,
  fakeTemplatesRepository,
  fakeUsersRepository,
  FakeWorkflows,
} from './domain-fakes';

/** The rejection of `p`, checked to be a DomainError with `code` (and a problem on `field`, if given). */
export async function expectDomainError(p: Promise<unknown>, code: string, field?: string): Promise<DomainError> {
  const err = await p.then(
    () => {
      throw new Error('expected a DomainError');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  if (field) expect((err as DomainError).fields.map((f) => f.field)).toContain(field);
  return err as DomainError;
}

/** A values schema with user fields and the given secret fields under `user`. */
export const userSchema = (extra: Record<string, unknown> = {}, secretKeys: string[] = ['adminPassword']) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    replicas: { type: 'integer' },
    user: {
      type: 'object',
      additionalProperties: false,
      properties: {
        title: { type: 'string', maxLength: 40 },
        adminPassword: { type: 'string', minLength: 8 },
        apiKey: { type: 'string' },
        ...extra,
        ...Object.fromEntries(secretKeys.map((k) => [k, { type: 'string', minLength: 8, 'x-caelus-secret': true }])),
      },
    },
    caelus: { type: 'object', properties: { deploymentUid: { type: 'string', minLength: 1 }, domainName: { type: 'string', minLength: 1 } } },
  },
});

export const SECRET = 'correct-horse-battery-staple';

/**
 * The world of the deployment services' unit specs: in-memory repositories with one user, one
 * product and its template 1.0.0, fake workflows and renderer, and the services' dependencies.
 */
export function deploymentsFixture() {
  const store = new FakeStore();
  const workflows = new FakeWorkflows();
  const renderer = new FakeRenderer();
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const box = new SecretBox(Buffer.alloc(32, 5));
  const deps = (over: Partial<DeploymentsServiceDeps> = {}): DeploymentsServiceDeps => ({
    db: fakeDataSource(store) as never,
    users: fakeUsersRepository(store) as never,
    products: fakeProductsRepository(store) as never,
    templates: fakeTemplatesRepository(store) as never,
    deployments: fakeDeploymentsRepository(store) as never,
    events: fakeEventsRepository(store) as never,
    validator: new ValuesValidator(),
    box,
    workflows,
    renderer,
    logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    ...over,
  });
  const userId = store.addUser({ email: 'Ada.Lovelace@example.com' }).id;
  const productId = store.addProduct({ name: 'webapp' }).id;
  const v1 = store.addTemplate(productId, { version: '1.0.0', valuesSchema: userSchema(), defaultValues: { replicas: 1, user: { title: 'default' } } }).id;
  const admin: Principal = { userId: null, isAdmin: true, actor: 'admin' };
  const owner: Principal = { userId, isAdmin: false, actor: userId };
  return { store, workflows, renderer, warnings, box, deps, userId, productId, v1, admin, owner };
}
