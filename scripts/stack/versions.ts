// Every version and port of the local stack, in one place. Bumping a version here makes
// the next `stack:up` build that tool into a fresh cache directory; the old one stays
// until the cache is cleared (docs/STACK.md).

/** How a tool is produced from the Go module proxy. */
export type ToolBuild =
  | {
      kind: 'go-install';
      /** Package paths, each installed at `module@version`. */
      packages: string[];
      ldflags?: string[];
      /** Go build tags. */
      tags?: string[];
      /** Installed binaries to rename (`go install` names them after their package directory). */
      rename?: Record<string, string>;
    }
  | {
      /**
       * The tools that share k8s.io/* (and grpc, etcd's client, …) built in one generated module
       * and one `go build`, so every shared package compiles once: k8s.io/kubernetes pins the
       * k8s.io/* staging modules to their published releases and the other parts build against them.
       */
      kind: 'kubernetes-bundle';
      /** Commands under k8s.io/kubernetes/cmd/ to build. */
      commands: string[];
      /** Other modules in the bundle, each at its own version, and the main packages built from them. */
      parts: { module: string; version: string; packages: string[] }[];
      /** Main packages written into the generated module, by directory: `main.go` source. */
      mains?: Record<string, string>;
      /** Link flags of the parts (the Kubernetes version stamps are added by the build). */
      ldflags?: string[];
    }
  | {
      /**
       * Main packages of several modules built in one generated module and one `go build`, so the
       * packages they share compile once (each module at the version given, the rest by MVS).
       */
      kind: 'module-set';
      parts: { module: string; version: string; packages: string[] }[];
      ldflags?: string[];
      tags?: string[];
      /** Built binaries to rename (`go build` names them after their package directory). */
      rename?: Record<string, string>;
      /** Main packages whose directory name another part already uses: linked on their own into `binary` (their packages are compiled by then). */
      separate?: { package: string; binary: string }[];
      /** Replace lines the parts' own go.mod files carry (minus those pointing into their own trees). */
      replaces?: string[];
      /** `go mod tidy -e`: test-only dependencies the proxy refuses must not stop the build. */
      tidyTolerant?: boolean;
      /** Directories of *.yaml files in a part's module copied into `<tool dir>/crds`. */
      crds?: { module: string; dir: string }[];
    };

export interface ToolSpec {
  name: string;
  version: string;
  /** Go module the version belongs to. */
  module: string;
  /** Binaries the build leaves in `<cache>/<name>-<version>/bin/`. */
  binaries: string[];
  build: ToolBuild;
  /** Built only when asked for (e.g. `stack:up -- --with-flux`), never by the default stack. */
  profile?: StackProfile;
}

/** Optional parts of the stack: Flux's controllers, and a Temporal server on Postgres instead of the CLI's dev server. */
export type StackProfile = 'flux' | 'temporal-server';

export const KUBERNETES_VERSION = '1.36.3';
/** k8s.io/* staging modules are published as v0.<minor>.<patch> of the same release. */
export const KUBERNETES_STAGING_VERSION = '0.36.3';
/** kwok v0.8.0 is built against k8s 1.36 (its supported_releases.txt starts at 1.36.1). */
export const KWOK_VERSION = '0.8.0';
/** The etcd release k8s.io/kubernetes v1.36.3 itself depends on. */
export const ETCD_VERSION = '3.6.8';
/** Last temporalio/cli tag `go install` accepts (later ones carry a replace directive). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const HELM_VERSION = '3.22.0';
export const REGISTRY_VERSION = '3.1.2';
/**
 * Flux controllers (`--with-flux`): the newest releases the module proxy here serves that Go 1.26 builds
 * (helm-controller v1.6.5 is refused by the proxy; v1.7 and source-controller v1.10 need Go 1.27).
 */
export const FLUX_HELM_CONTROLLER_VERSION = '1.6.4';
export const FLUX_SOURCE_CONTROLLER_VERSION = '1.9.6';
/**
 * `--temporal server`: the go.temporal.io/server release the temporal CLI above requires (its dev
 * server is this server), built in the CLI's module, so the profile costs two links, not a build of
 * its own, and both profiles run the same server code. (v1.32.1 builds here too, as a separate
 * ~12 min compile; v1.32.2 needs Go 1.26.10.)
 */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

const [kubeMajor, kubeMinor] = KUBERNETES_VERSION.split('.');

export const TOOLS: ToolSpec[] = [
  {
    name: 'kubernetes',
    // Every part's version is in the name, so bumping any of them builds a new directory.
    version: `${KUBERNETES_VERSION}+etcd.${ETCD_VERSION}+kwok.${KWOK_VERSION}+helm.${HELM_VERSION}`,
    module: 'k8s.io/kubernetes',
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'etcd', 'kwok', 'kwokctl', 'helm'],
    build: {
      kind: 'kubernetes-bundle',
      commands: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'],
      parts: [
        // etcd's own main module carries replace directives (go install refuses it): a two-line main around etcdmain.
        { module: 'go.etcd.io/etcd/server/v3', version: ETCD_VERSION, packages: ['./cmd/etcd'] },
        { module: 'sigs.k8s.io/kwok', version: KWOK_VERSION, packages: ['sigs.k8s.io/kwok/cmd/kwok', 'sigs.k8s.io/kwok/cmd/kwokctl'] },
        // helm 3.22 asks for k8s.io/* v0.37; built against the cluster's v0.36 (the bundle's staging replaces).
        { module: 'helm.sh/helm/v3', version: HELM_VERSION, packages: ['helm.sh/helm/v3/cmd/helm'] },
      ],
      mains: {
        'cmd/etcd': 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n',
      },
      // Helm's Makefile stamps these; unstamped it reports "v3.22" and assumes k8s 1.20.
      ldflags: [
        `-X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}`,
        '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
        `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${kubeMajor}`,
        `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${kubeMinor}`,
      ],
    },
  },
  {
    name: 'temporal',
    // The CLI (dev server, operator commands) and the server profile's two binaries in one build.
    version: `${TEMPORAL_CLI_VERSION}+server.${TEMPORAL_SERVER_VERSION}`,
    module: 'github.com/temporalio/cli',
    binaries: ['temporal', 'temporal-server', 'temporal-sql-tool', 'temporal-ui-server'],
    build: {
      kind: 'module-set',
      parts: [
        { module: 'github.com/temporalio/cli', version: TEMPORAL_CLI_VERSION, packages: ['github.com/temporalio/cli/cmd/temporal'] },
        { module: 'go.temporal.io/server', version: TEMPORAL_SERVER_VERSION, packages: ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'] },
      ],
      ldflags: [`-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`],
      // As the server's Makefile builds it: the tag leaves out the GCS gRPC client (archival), about 16 MB.
      tags: ['disable_grpc_modules'],
      rename: { server: 'temporal-server', sql: 'temporal-sql-tool' },
      // The Web UI the CLI's dev server serves, as a process of its own for the server profile
      // (the CLI already compiles it and its embedded assets; its main is also named `server`).
      separate: [{ package: 'github.com/temporalio/ui-server/v2/cmd/server', binary: 'temporal-ui-server' }],
    },
  },
  {
    name: 'registry',
    version: REGISTRY_VERSION,
    module: 'github.com/distribution/distribution/v3',
    binaries: ['registry'],
    build: {
      kind: 'go-install',
      packages: ['github.com/distribution/distribution/v3/cmd/registry'],
      ldflags: [`-X github.com/distribution/distribution/v3/version.version=v${REGISTRY_VERSION}`],
    },
  },
  {
    name: 'flux',
    // Both controllers in one generated module and one `go build`: they share k8s.io/*, controller-runtime,
    // helm v4 and fluxcd/pkg (196 common requirements, 168 at the same version), so those compile once.
    version: `helm-controller.${FLUX_HELM_CONTROLLER_VERSION}+source-controller.${FLUX_SOURCE_CONTROLLER_VERSION}`,
    module: 'github.com/fluxcd/helm-controller',
    binaries: ['helm-controller', 'source-controller'],
    profile: 'flux',
    build: {
      kind: 'module-set',
      parts: [
        // Their go.mod files replace the nested api modules with ./api, which a module zip leaves out: required here at the same tag.
        { module: 'github.com/fluxcd/helm-controller', version: FLUX_HELM_CONTROLLER_VERSION, packages: ['github.com/fluxcd/helm-controller'] },
        { module: 'github.com/fluxcd/helm-controller/api', version: FLUX_HELM_CONTROLLER_VERSION, packages: [] },
        { module: 'github.com/fluxcd/source-controller', version: FLUX_SOURCE_CONTROLLER_VERSION, packages: ['github.com/fluxcd/source-controller'] },
        { module: 'github.com/fluxcd/source-controller/api', version: FLUX_SOURCE_CONTROLLER_VERSION, packages: [] },
      ],
      replaces: [
        // helm-controller's pin of go-digest (source-controller pins an older commit of the same pre-release).
        'github.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-0.20231025023718-d50d2fec9c98',
        'sigs.k8s.io/kustomize/api => sigs.k8s.io/kustomize/api v0.21.1',
        'sigs.k8s.io/kustomize/kyaml => sigs.k8s.io/kustomize/kyaml v0.21.1',
        // The proxy here refuses fluxcd/pkg/artifact v0.18.2 and v0.18.3; v0.18.1 differs by a go.mod bump only.
        'github.com/fluxcd/pkg/artifact => github.com/fluxcd/pkg/artifact v0.18.1',
      ],
      // source-controller's tests import fluxcd/pkg/helmtestserver v0.40.2, which the proxy here refuses.
      tidyTolerant: true,
      crds: [
        { module: 'github.com/fluxcd/helm-controller', dir: 'config/crd/bases' },
        { module: 'github.com/fluxcd/source-controller', dir: 'config/crd/bases' },
      ],
    },
  },
];

/** The tools a stack with these profiles needs: the default ones plus each profile's. */
export function toolsFor(profiles: readonly string[] = [], options: { profileOnly?: boolean } = {}): ToolSpec[] {
  // profileOnly: the profiles' own tools alone (`.ci/run` builds Flux beside the default tools, at low priority).
  return TOOLS.filter((t) => (t.profile ? profiles.includes(t.profile) : !options.profileOnly));
}

/** Everything binds to loopback. */
export const HOST = '127.0.0.1';

export const PORTS = {
  temporalFrontend: 7233,
  temporalUi: 8233,
  /** Used only when the stack runs its own PostgreSQL (nothing answered on 5432). */
  postgresLocal: 54329,
  kubeApiserver: 6443,
  registry: 5001,
  /** `--with-flux`: source-controller's artifact server (helm-controller downloads charts from it), metrics, health. */
  fluxSourceArtifacts: 9690,
  fluxSourceMetrics: 9691,
  fluxSourceHealth: 9692,
  fluxHelmMetrics: 9693,
  fluxHelmHealth: 9694,
  /** `--temporal server`: the server's other listeners (its frontend takes temporalFrontend). */
  temporalServer: {
    frontendHttp: 7243,
    frontendMembership: 6933,
    historyGrpc: 7234,
    historyMembership: 6934,
    matchingGrpc: 7235,
    matchingMembership: 6935,
    workerGrpc: 7239,
    workerMembership: 6939,
    metrics: 7290,
  },
} as const;

/** `--temporal server`: its default store and its SQL visibility, on the stack's PostgreSQL. */
export const TEMPORAL_SERVER_DATABASES = { store: 'temporal', visibility: 'temporal_visibility' } as const;
/** Connection pools of the server (about 2×store + visibility connections in all), well inside PostgreSQL's default 100. */
export const TEMPORAL_SERVER_POOLS = { store: 10, visibility: 4 } as const;

export const TEMPORAL_NAMESPACE = 'default';

/** Keyword search attributes the control plane writes on its workflows. */
/**
 * Dynamic config both Temporal profiles run with. The priority matcher orders a task queue's
 * backlog by the tasks' priority key (libs/orchestration/src/workflows/task-priority.ts): under a
 * burst, the workflows' bookkeeping runs ahead of the release steps queued behind it. It orders
 * within a partition, so the stack's single server writes every task queue's tasks to one
 * partition (the default 4 spread a queue over matching hosts, of which the stack has one). Reads
 * keep the default 4: tasks an older stack wrote to the others are still handed out.
 */
export const TEMPORAL_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number | string>> = {
  'matching.useNewMatcher': true,
  'matching.numTaskqueueWritePartitions': 1,
};

export const TEMPORAL_SEARCH_ATTRIBUTES = ['CaelusDeploymentId', 'CaelusUserId', 'CaelusProduct', 'CaelusTemplateVersion', 'CaelusPhase'] as const;

export const DATABASES = { app: 'caelus', test: 'caelus_test' } as const;

export const KWOK_CLUSTER_NAME = 'caelus';
