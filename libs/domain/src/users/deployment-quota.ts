/**
 * Limits on live (not deleted) deployments. `null` means no limit. A user's own limit, when an
 * admin set one, replaces the per-user default; the platform-wide limit holds in any case.
 */
export interface DeploymentQuota {
  /** Default limit of a user without a limit of their own. */
  perUser: number | null;
  /** Limit over all users together. */
  total: number | null;
}

export const NO_QUOTA: DeploymentQuota = { perUser: null, total: null };

/** The limit that applies to a user: their own when set, else the default. */
export function userDeploymentLimit(user: { maxDeployments: number | null }, quota: DeploymentQuota): number | null {
  return user.maxDeployments ?? quota.perUser;
}

/** Live deployments are counted; deleting ones too, since they still hold a namespace and a domain name. */
export interface DeploymentUsage {
  liveDeployments: number;
  deploymentLimit: number | null;
}
