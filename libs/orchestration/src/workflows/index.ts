// The worker bundles this file: it must import only workflow-safe code.
export { deploymentWorkflow } from './deployment.workflow';
export { clusterWatcherWorkflow } from './cluster-watcher.workflow';
export { rolloutWorkflow } from './rollout.workflow';
