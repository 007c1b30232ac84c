import { Inject, Injectable } from '@nestjs/common';
import { Connection } from '@temporalio/client';
import { DataSource } from 'typeorm';
import { CAELUS_CONFIG, CaelusConfig } from '../../../../libs/config/src';
import { TEMPORAL_CONNECTION } from '../../../../libs/core/src';

/** The cheapest call that shows each dependency answers; /health runs them. */
@Injectable()
export class DependencyProbes {
  private kubeVersion?: () => Promise<unknown>;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(TEMPORAL_CONNECTION) private readonly temporalConnection: Connection,
    @Inject(CAELUS_CONFIG) private readonly config: CaelusConfig,
  ) {}

  database(): Promise<unknown> {
    return this.db.query('SELECT 1');
  }

  temporal(): Promise<unknown> {
    return this.temporalConnection.healthService.check({});
  }

  async kubernetes(): Promise<unknown> {
    if (!this.config.kubeconfig && !this.config.inCluster) throw new Error('KUBECONFIG is not set');
    if (!this.kubeVersion) {
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      if (this.config.kubeconfig) kc.loadFromFile(this.config.kubeconfig);
      else kc.loadFromCluster();
      const api = kc.makeApiClient(k8s.VersionApi);
      this.kubeVersion = () => api.getCode();
    }
    return this.kubeVersion();
  }
}
