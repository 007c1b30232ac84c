/** The signals a deployment's workflow understands (the orchestration contract mirrors these). */
export type DeploymentSignal = { name: 'reconcile'; generation: number } | { name: 'upgrade'; templateId: string; requestedBy: string } | { name: 'delete'; generation: number };

export interface WorkflowRef {
  id: string;
  uiUrl: string;
}

/**
 * "Wake this deployment's workflow": the one thing the domain needs from the orchestrator.
 * The orchestration layer implements it with signalWithStart; the domain never sees Temporal.
 */
export interface DeploymentWorkflowPort {
  wake(deployment: { id: string; deploymentUid: string; userId: string }, signal: DeploymentSignal): Promise<void>;
  describe(deploymentUid: string): WorkflowRef;
}

export const DEPLOYMENT_WORKFLOW_PORT = Symbol('DEPLOYMENT_WORKFLOW_PORT');

/** Minimal logger the domain writes to (pino and Nest's logger both fit). */
export interface DomainLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** A chart to render: the coordinates a template version pins. */
export interface ChartCoordinates {
  ref: string;
  version?: string;
  digest?: string;
}

/**
 * "Render this chart with these values" without touching the cluster (`helm template`), for
 * upgrade previews. The platform's helm runner implements it, wired in the composition root.
 */
export interface ManifestRenderer {
  render(request: { release: string; namespace: string; chart: ChartCoordinates; values: Record<string, unknown> }): Promise<string>;
}

export const MANIFEST_RENDERER = Symbol('MANIFEST_RENDERER');

/** A control request a rollout's workflow understands (the orchestration contract mirrors these). */
export type RolloutSignal = 'pause' | 'resume' | 'abort';

/** "Start / signal this rollout's workflow": what the domain needs from the orchestrator for fleet rollouts. */
export interface RolloutWorkflowPort {
  start(rollout: { id: string; productName: string; toVersion: string }): Promise<void>;
  signal(rolloutId: string, signal: RolloutSignal, requestedBy: string): Promise<void>;
  describe(rolloutId: string): WorkflowRef;
}

export const ROLLOUT_WORKFLOW_PORT = Symbol('ROLLOUT_WORKFLOW_PORT');
