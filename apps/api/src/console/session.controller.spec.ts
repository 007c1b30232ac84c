import { notFound } from '../../../../libs/domain/src';
import { SessionController } from './session.controller';

describe(SessionController.name, () => {
  const users = { get: jest.fn() };
  const sut = new SessionController(users as never);

  it("names the token's user", async () => {
    users.get.mockResolvedValue({ user: { id: 'u1', email: 'ada@example.com', isAdmin: false }, liveDeployments: 0, deploymentLimit: null });
    await expect(sut.get({ userId: 'u1', isAdmin: false, actor: 'u1' })).resolves.toEqual({ userId: 'u1', email: 'ada@example.com', isAdmin: false });
    expect(users.get).toHaveBeenCalledWith('u1');
  });

  it('answers for the bootstrap admin, which has no user', async () => {
    users.get.mockClear();
    await expect(sut.get({ userId: null, isAdmin: true, actor: 'admin' })).resolves.toEqual({ userId: null, email: null, isAdmin: true });
    expect(users.get).not.toHaveBeenCalled();
  });

  it('passes on a user that is gone', async () => {
    users.get.mockRejectedValue(notFound('user', 'u2'));
    await expect(sut.get({ userId: 'u2', isAdmin: false, actor: 'u2' })).rejects.toMatchObject({ code: 'NotFound' });
  });
});
