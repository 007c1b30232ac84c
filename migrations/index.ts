import { InitialSchema1763776800000 } from './1763776800000-InitialSchema';
import { DeploymentQuotasAndDomainSuffixes1796019347276 } from './1796019347276-DeploymentQuotasAndDomainSuffixes';
import { BindSealedValues1796020096774 } from './1796020096774-BindSealedValues';
import { DeploymentSuspension1796041107180 } from './1796041107180-DeploymentSuspension';
import { SupervisorSweeps1796041873042 } from './1796041873042-SupervisorSweeps';
import { DeploymentHealth1796043000000 } from './1796043000000-DeploymentHealth';
import { FleetRollouts1796045000000 } from './1796045000000-FleetRollouts';

/** Every migration, in order. Listed explicitly so src (ts) and dist (js) runs agree. */
export const MIGRATIONS = [
  InitialSchema1763776800000,
  DeploymentQuotasAndDomainSuffixes1796019347276,
  BindSealedValues1796020096774,
  DeploymentSuspension1796041107180,
  SupervisorSweeps1796041873042,
  DeploymentHealth1796043000000,
  FleetRollouts1796045000000,
];
