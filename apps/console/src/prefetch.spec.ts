import { prefetch, takePrefetched } from './prefetch';

describe('prefetch', () => {
  afterEach(() => jest.useRealTimers());

  it('hands the started request over once, and only for the token it was made with', async () => {
    prefetch('k', 'token-a', async () => 42);
    expect(takePrefetched('k', 'token-b')).toBeUndefined();
    // A wrong token used it up: nobody else gets it either.
    expect(takePrefetched('k', 'token-a')).toBeUndefined();

    prefetch('k', 'token-a', async () => 43);
    await expect(takePrefetched<number>('k', 'token-a')).resolves.toBe(43);
    expect(takePrefetched('k', 'token-a')).toBeUndefined();
  });

  it('drops an answer that is no longer fresh, and never leaves a failure unhandled', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    prefetch('k', 't', () => Promise.reject(new Error('403')));
    jest.setSystemTime(1_000_000 + 10_001);
    expect(takePrefetched('k', 't')).toBeUndefined();
  });
});
