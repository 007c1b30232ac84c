import { DataSource } from 'typeorm';
import { DeploymentsRepository, Page, PageRequest, uniqueViolation, UserEntity, UsersRepository } from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { hashToken, newApiToken, tokensEqual } from '../auth/tokens';
import { conflict, invalidInput, notFound } from '../errors';
import { DeploymentQuota, DeploymentUsage, NO_QUOTA, userDeploymentLimit } from './deployment-quota';
import { readPage } from '../pagination';

export interface CreateUserInput {
  email: string;
  isAdmin?: boolean;
  /** Live deployments the user may own; null or left out: the configured default. */
  maxDeployments?: number | null;
}

export interface UpdateUserInput {
  /** null: back to the configured default. */
  maxDeployments?: number | null;
}

/** A user with what it uses of its deployment limit. */
export type UserWithUsage = { user: UserEntity } & DeploymentUsage;

/** Highest limit an admin may set (the column is an integer; larger means "no limit" in practice). */
export const MAX_DEPLOYMENTS_LIMIT = 1_000_000;

const EMAIL = /^[^\s@<>()[\]\\,;:"']{1,64}@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/i;

export class UsersService {
  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly deployments: DeploymentsRepository,
    private readonly adminToken: string | undefined,
    private readonly quota: DeploymentQuota = NO_QUOTA,
  ) {}

  /** Returns the new user and its API token, which is shown this once and stored only hashed. */
  async create(input: CreateUserInput): Promise<UserWithUsage & { apiToken: string }> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 254) throw invalidInput('email is not a valid address', [{ field: 'email', message: 'must be a valid e-mail address' }]);
    checkLimit(input.maxDeployments);
    const apiToken = newApiToken();
    try {
      const user = await this.users.insert({ email, isAdmin: input.isAdmin ?? false, apiTokenHash: hashToken(apiToken), maxDeployments: input.maxDeployments ?? null });
      return { user, liveDeployments: 0, deploymentLimit: userDeploymentLimit(user, this.quota), apiToken };
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(`a user with email ${email} already exists`, [{ field: 'email', message: 'is already taken' }]);
      throw err;
    }
  }

  async list(page: PageRequest): Promise<Page<UserWithUsage>> {
    const res = await readPage(() => this.users.list(page));
    const counts = await this.deployments.countActiveByUsers(res.items.map((u) => u.id));
    return { items: res.items.map((user) => ({ user, liveDeployments: counts.get(user.id) ?? 0, deploymentLimit: userDeploymentLimit(user, this.quota) })), nextCursor: res.nextCursor };
  }

  async get(id: string): Promise<UserWithUsage> {
    const user = await this.users.findActiveById(id);
    if (!user) throw notFound('user', id);
    return this.withUsage(user);
  }

  /** Admin changes to a user: today its deployment limit. Lowering it below the live count deletes nothing; new ones are refused. */
  async update(id: string, input: UpdateUserInput): Promise<UserWithUsage> {
    checkLimit(input.maxDeployments);
    const user = await this.db.transaction(async (m) => {
      const u = await this.users.findActiveByIdForUpdate(id, m);
      if (!u) throw notFound('user', id);
      if (input.maxDeployments !== undefined) await this.users.update(id, { maxDeployments: input.maxDeployments }, m);
      return (await this.users.findActiveById(id, m))!;
    });
    return this.withUsage(user);
  }

  /**
   * A new token for the user; the old one stops working with this commit (tokens are looked up by
   * hash on every request, nothing caches them). The new token is shown this once.
   */
  async rotateToken(id: string): Promise<UserWithUsage & { apiToken: string }> {
    const apiToken = newApiToken();
    const user = await this.db.transaction(async (m) => {
      const u = await this.users.findActiveByIdForUpdate(id, m);
      if (!u) throw notFound('user', id);
      await this.users.update(id, { apiTokenHash: hashToken(apiToken) }, m);
      return (await this.users.findActiveById(id, m))!;
    });
    return { ...(await this.withUsage(user)), apiToken };
  }

  private async withUsage(user: UserEntity): Promise<UserWithUsage> {
    return { user, liveDeployments: await this.deployments.countActiveByUser(user.id), deploymentLimit: userDeploymentLimit(user, this.quota) };
  }

  /** Soft delete; refused while the user still has deployments. Deleting twice is fine. */
  async delete(id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const user = await this.users.findActiveById(id, m);
      if (!user) return;
      if ((await this.deployments.countActiveByUser(id, m)) > 0) throw conflict('the user still has deployments; delete them first');
      await this.users.softDelete(id, m);
    });
  }

  /** Resolves a bearer token to a principal, or null when it matches nobody. */
  async authenticate(token: string): Promise<Principal | null> {
    if (!token || token.length > 512) return null;
    if (this.adminToken && tokensEqual(token, this.adminToken)) return { userId: null, isAdmin: true, actor: 'admin' };
    const user = await this.users.findActiveByTokenHash(hashToken(token));
    return user ? { userId: user.id, isAdmin: user.isAdmin, actor: user.id } : null;
  }
}

function checkLimit(limit: number | null | undefined): void {
  if (limit === undefined || limit === null) return;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_DEPLOYMENTS_LIMIT) {
    throw invalidInput('maxDeployments is not a valid limit', [{ field: 'maxDeployments', message: `must be an integer from 0 to ${MAX_DEPLOYMENTS_LIMIT}, or null for the default` }]);
  }
}
