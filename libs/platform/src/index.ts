// Platform adapters: the bottom layer. Nothing here knows about the domain, persistence,
// orchestration or NestJS; the apps wire these classes in as injectable providers.
export * from './logger';

export * from './kubernetes/kube.types';
export * from './kubernetes/kube.errors';
export * from './kubernetes/kube.client';
export * from './kubernetes/namespace';
export * from './kubernetes/manifest';
export * from './kubernetes/drift';
export * from './kubernetes/health';
export * from './kubernetes/metadata-cache';
export * from './kubernetes/discovery';
export * from './kubernetes/confinement';
export * from './kubernetes/tenant';

export * from './helm/helm.types';
export type { HelmRunnerOptions } from './helm/helm-runner.options';
export * from './helm/helm.errors';
export { assertReleaseName, assertNamespaceName, resolveChart } from './helm/helm.args';
export * from './helm/helm-release.storage';
export { HelmRunner } from './helm/helm.runner';
export * from './helm/helm-release.backend';
export type { SlotGrant } from './helm/slots';
export { helmTempDirPrefix, removeStaleHelmTempDirs } from './helm/helm-temp-dirs';
export { childEnv } from './process/child-env';
export { makeScrubber } from './helm/scrubber';

export { FluxReleaseBackend } from './flux/flux-release.backend';
export type { FluxApplyRequest, FluxReleaseBackendDeps } from './flux/flux-release.backend';
