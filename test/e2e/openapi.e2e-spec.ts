// The committed openapi.json must be what the code generates (STYLE.md #11).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_FILE, renderOpenApi, sortKeys } from '../../scripts/openapi';
import { startTestApi, TestApi } from '../support/api';
import { REPO_ROOT } from '../support/e2e';

describe('OpenAPI document (e2e)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api?.close();
  });

  it(`matches the committed ${OPENAPI_FILE} (regenerate with \`npm run openapi\`)`, () => {
    const generated = renderOpenApi(api.app);
    const committed = readFileSync(join(REPO_ROOT, OPENAPI_FILE), 'utf8');
    if (generated !== committed) {
      const [g, c] = [generated.split('\n'), committed.split('\n')];
      const line = g.findIndex((l, i) => l !== c[i]);
      throw new Error(`${OPENAPI_FILE} is out of date: run \`npm run openapi\` and commit the result.\nFirst difference at line ${line + 1}:\n  committed: ${c[line]}\n  generated: ${g[line]}`);
    }
  });

  it('is what /docs-json serves', async () => {
    const served = await api.http.get('/docs-json').expect(200);
    expect(sortKeys(served.body)).toEqual(JSON.parse(readFileSync(join(REPO_ROOT, OPENAPI_FILE), 'utf8')));
  });
});
