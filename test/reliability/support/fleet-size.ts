/** Deployments in flight per fault scenario (the issue asks for at least 10; lower it only to develop). */
export const FLEET = Number(process.env.CAELUS_REL_FLEET ?? 10);
