import { DataSource } from 'typeorm';
import { DeploymentsRepository, Page, PageRequest, uniqueViolation, UserEntity, UsersRepository } from '../../../persistence/src';
import { Principal } from '../auth/principal';
import { hashToken, newApiToken, tokensEqual } from '../auth/tokens';
import { conflict, invalidInput, notFound } from '../errors';

export interface CreateUserInput {
  email: string;
  isAdmin?: boolean;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"']{1,64}@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/i;

export class UsersService {
  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly deployments: DeploymentsRepository,
    private readonly adminToken: string | undefined,
  ) {}

  /** Returns the new user and its API token, which is shown this once and stored only hashed. */
  async create(input: CreateUserInput): Promise<{ user: UserEntity; apiToken: string }> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 254) throw invalidInput('email is not a valid address', [{ field: 'email', message: 'must be a valid e-mail address' }]);
    const apiToken = newApiToken();
    try {
      const user = await this.users.insert({ email, isAdmin: input.isAdmin ?? false, apiTokenHash: hashToken(apiToken) });
      return { user, apiToken };
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(`a user with email ${email} already exists`, [{ field: 'email', message: 'is already taken' }]);
      throw err;
    }
  }

  list(page: PageRequest): Promise<Page<UserEntity>> {
    return this.users.list(page);
  }

  async get(id: string): Promise<UserEntity> {
    const user = await this.users.findActiveById(id);
    if (!user) throw notFound('user', id);
    return user;
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
