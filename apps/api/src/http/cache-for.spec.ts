import { cacheFor } from './cache-for';

describe(cacheFor.name, () => {
  let now = 0;
  const clock = () => now;

  it('answers from one read for the whole interval, then reads again', async () => {
    let reads = 0;
    const sut = cacheFor(5000, async () => ++reads, clock);
    expect(await Promise.all([sut(), sut(), sut()])).toEqual([1, 1, 1]);
    now = 4999;
    expect(await sut()).toBe(1);
    now = 5000;
    expect(await sut()).toBe(2);
    expect(reads).toBe(2);
  });

  it('caches a failure too, so a backend outage is not hammered', async () => {
    now = 0;
    let reads = 0;
    const sut = cacheFor(
      1000,
      async () => {
        reads += 1;
        throw new Error('down');
      },
      clock,
    );
    await expect(sut()).rejects.toThrow('down');
    await expect(sut()).rejects.toThrow('down');
    expect(reads).toBe(1);
  });

  it('reads every time with an interval of 0', async () => {
    let reads = 0;
    const sut = cacheFor(0, async () => ++reads, clock);
    await sut();
    await sut();
    expect(reads).toBe(2);
  });
});
