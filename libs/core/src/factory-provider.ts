import type { FactoryProvider, InjectionToken } from '@nestjs/common';

/** A dependency of a factory provider: its injection token and, for the type checker, what it resolves to. */
export interface Dep<T> {
  token: InjectionToken;
  /** Never set: carries the resolved type. */
  readonly resolved?: T;
}

/** A class token resolves to its instance; any other token says what it resolves to: `dep<CaelusConfig>(CAELUS_CONFIG)`. */
export function dep<C extends abstract new (...args: never[]) => unknown>(token: C): Dep<InstanceType<C>>;
export function dep<T>(token: symbol | string): Dep<T>;
export function dep(token: InjectionToken): Dep<unknown> {
  return { token };
}

type Resolved<D> = { [K in keyof D]: D[K] extends Dep<infer V> ? V : never };

/**
 * A factory provider whose dependencies are named once: `build` gets them as an object, so the
 * inject list and the factory's parameter list cannot drift apart.
 */
export function factoryOf<T, D extends Record<string, Dep<unknown>>>(provide: InjectionToken, deps: D, build: (resolved: Resolved<D>) => T | Promise<T>): FactoryProvider<T> {
  const names = Object.keys(deps);
  return {
    provide,
    inject: names.map((name) => deps[name].token),
    useFactory: (...values: unknown[]) => build(Object.fromEntries(names.map((name, i) => [name, values[i]])) as Resolved<D>),
  };
}
