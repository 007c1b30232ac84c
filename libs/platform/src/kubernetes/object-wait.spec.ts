import { KubeError } from './kube.errors';
import type { KubeObject, ObjectRef } from './kube.types';
import type { WatchEvent } from './metadata-watch';
import { ObjectWaitClient, waitForObjects } from './object-wait';

const REF: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: 'ns' };
const obj = (rv: number, phase: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', resourceVersion: String(rv) }, data: { phase } });
const phaseOf = (o: KubeObject | undefined) => (o as { data?: { phase?: string } } | undefined)?.data?.phase;
const tick = () => new Promise((r) => setTimeout(r, 5));

/** A scripted API server: each watch call runs the next script with the call's options and its event sink. */
function client(current: () => KubeObject | undefined, scripts: ((opts: { resourceVersion: string; signal?: AbortSignal }, emit: (e: WatchEvent) => void) => Promise<void>)[]) {
  const watches: string[] = [];
  const kube = {
    listWithVersion: jest.fn(async () => {
      const o = current();
      return { items: o ? [o] : [], resourceVersion: o?.metadata.resourceVersion ?? '1' };
    }),
    watchObjects: jest.fn(async (_a: string, _k: string, opts: { resourceVersion: string; signal?: AbortSignal; fieldSelector?: string }, emit: (e: WatchEvent) => void) => {
      watches.push(`${opts.fieldSelector}@${opts.resourceVersion}`);
      const script = scripts.shift();
      // No script left: a watch that stays open until the wait ends.
      if (!script) return new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
      return script(opts, emit);
    }),
  };
  return { kube: kube as unknown as ObjectWaitClient & typeof kube, watches };
}

describe(waitForObjects.name, () => {
  const done = (objects: (KubeObject | undefined)[]) => (phaseOf(objects[0]) === 'done' ? 'ok' : undefined);
  const options = (over: Partial<Parameters<typeof waitForObjects>[3]> = {}) => ({ deadline: Date.now() + 5_000, timeoutError: () => new Error('timed out'), retryPauseMs: 1, ...over });

  it('decides on the first list without watching when the object already is where it should be', async () => {
    const { kube } = client(() => obj(3, 'done'), []);
    await expect(waitForObjects(kube, [REF], done, options())).resolves.toBe('ok');
    expect(kube.watchObjects).not.toHaveBeenCalled();
  });

  it('follows the watch from the list’s resourceVersion and resumes it from the last event when the server ends it', async () => {
    const { kube, watches } = client(
      () => obj(3, 'pending'),
      [
        async (_o, emit) => {
          emit({ type: 'MODIFIED', object: obj(4, 'still pending') });
          emit({ type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '', resourceVersion: '6' } } });
        },
        async (_o, emit) => emit({ type: 'MODIFIED', object: obj(7, 'done') }),
      ],
    );
    await expect(waitForObjects(kube, [REF], done, options())).resolves.toBe('ok');
    expect(watches).toEqual(['metadata.name=cm@3', 'metadata.name=cm@6']);
    expect(kube.listWithVersion).toHaveBeenCalledTimes(1);
  });

  it('lists again after a failed watch (410 Expired), so a change made in between is not missed', async () => {
    let live = obj(3, 'pending');
    const { kube, watches } = client(
      () => live,
      [
        async () => {
          live = obj(9, 'done');
          throw new KubeError('watch ConfigMap in ns: too old resource version', 410, 'Expired', true);
        },
      ],
    );
    await expect(waitForObjects(kube, [REF], done, options())).resolves.toBe('ok');
    expect(kube.listWithVersion).toHaveBeenCalledTimes(2);
    expect(watches).toEqual(['metadata.name=cm@3']);
  });

  it('sees a deletion as the object gone', async () => {
    const { kube } = client(() => obj(3, 'pending'), [async (_o, emit) => emit({ type: 'DELETED', object: obj(4, 'pending') })]);
    await expect(waitForObjects(kube, [REF], ([o]) => (o ? undefined : 'gone'), options())).resolves.toBe('gone');
  });

  it('ends with decide’s error, with the timeout error at the deadline, and with the signal’s reason when aborted', async () => {
    const failing = client(() => obj(3, 'pending'), [async (_o, emit) => emit({ type: 'MODIFIED', object: obj(4, 'broken') })]);
    const decide = ([o]: (KubeObject | undefined)[]) => {
      if (phaseOf(o) === 'broken') throw new Error('it broke');
      return undefined;
    };
    await expect(waitForObjects(failing.kube, [REF], decide, options())).rejects.toThrow('it broke');

    const silent = client(() => obj(3, 'pending'), []);
    await expect(waitForObjects(silent.kube, [REF], done, options({ deadline: Date.now() + 20 }))).rejects.toThrow('timed out');

    const aborted = client(() => obj(3, 'pending'), []);
    const controller = new AbortController();
    const waiting = waitForObjects(aborted.kube, [REF], done, options({ signal: controller.signal }));
    await tick();
    controller.abort(new Error('cancelled by the workflow'));
    await expect(waiting).rejects.toThrow('cancelled by the workflow');
  });

  it('decides on all the objects together, each followed on a watch of its own', async () => {
    const other: ObjectRef = { ...REF, name: 'other' };
    const { kube, watches } = client(
      () => obj(3, 'pending'),
      [
        // The first object's watch stays open, quiet, until the wait ends.
        (o) => new Promise<void>((resolve) => o.signal?.addEventListener('abort', () => resolve(), { once: true })),
        async (_o, emit) => {
          await tick();
          emit({ type: 'MODIFIED', object: { ...obj(5, 'done'), metadata: { name: 'other', namespace: 'ns', resourceVersion: '5' } } });
        },
      ],
    );
    await expect(waitForObjects(kube, [REF, other], (objs) => (phaseOf(objs[1]) === 'done' && phaseOf(objs[0]) === 'pending' ? 'both seen' : undefined), options())).resolves.toBe('both seen');
    expect(watches.sort()).toEqual(['metadata.name=cm@3', 'metadata.name=other@3']);
  });
});
