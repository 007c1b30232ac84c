import { parseKeptResources } from './helm.output';

describe(parseKeptResources.name, () => {
  it('is empty when helm kept nothing', () => {
    expect(parseKeptResources('release "web" uninstalled\n')).toEqual([]);
  });
});
