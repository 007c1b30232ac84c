/** Who is calling. The bootstrap admin (CAELUS_ADMIN_TOKEN) has no user row. */
export interface Principal {
  userId: string | null;
  isAdmin: boolean;
  /** For the audit trail: a user id, or "admin" for the bootstrap admin. */
  actor: string;
}

export const WORKFLOW_ACTOR = 'workflow';
