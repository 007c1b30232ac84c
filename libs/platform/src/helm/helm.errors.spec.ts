import { HelmError, classifyHelmOutput, stripDebugPrefix, summarizeHelmError } from './helm.errors';

describe(HelmError.name, () => {
  it.each([
    ['invalid-values', false],
    ['chart-not-found', false],
    ['forbidden', false],
    ['pending', true],
    ['timeout', true],
    ['transient', true],
  ] as const)('marks %s as retryable=%s', (kind, retryable) => {
    const sut = new HelmError(kind, 'x');
    expect(sut.retryable).toBe(retryable);
    expect(sut.kind).toBe(kind);
    expect(sut).toBeInstanceOf(Error);
  });
});

describe(classifyHelmOutput.name, () => {
  it.each([
    ['invalid-values', "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\nwebapp:\n- replicas: Must be less than or equal to 5\n"],
    ['invalid-values', 'Error: UPGRADE FAILED: execution error at (webapp/templates/x.yaml:3:4): title is required'],
    ['invalid-values', 'Error: UPGRADE FAILED: cannot patch "web" with kind Deployment: Deployment.apps "web" is invalid: spec.selector: Invalid value: ...: field is immutable'],
    ['chart-not-found', 'Error: INSTALLATION FAILED: oci://127.0.0.1:5001/charts/webapp:9.9.9: not found'],
    ['chart-not-found', 'Error: failed to perform "FetchReference" on source: GET http://127.0.0.1:5001/v2/charts/webapp/manifests/sha256:ab: MANIFEST_UNKNOWN: manifest unknown'],
    ['chart-not-found', 'Error: path "/charts/missing" not found'],
    ['chart-not-found', 'Error: stat /charts/missing: no such file or directory'],
    ['forbidden', 'Error: UPGRADE FAILED: deployments.apps "web" is forbidden: User "caelus" cannot patch resource "deployments"'],
    ['forbidden', 'Error: INSTALLATION FAILED: persistentvolumeclaims "data" is forbidden: exceeded quota: caelus-quota'],
    ['pending', 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress'],
    ['timeout', 'Error: UPGRADE FAILED: context deadline exceeded'],
    ['timeout', 'Error: INSTALLATION FAILED: timed out waiting for the condition'],
    ['transient', 'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:6443/version": dial tcp 127.0.0.1:6443: connect: connection refused'],
    ['transient', 'Error: UPGRADE FAILED: the server is currently unable to handle the request (get deployments.apps web)'],
    ['transient', 'Error: UPGRADE FAILED: Operation cannot be fulfilled on deployments.apps "web": the object has been modified'],
    ['transient', 'Error: something nobody has seen before'],
    // Network trouble wrapped in messages that otherwise mean bad values or a missing chart.
    [
      'transient',
      'Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: error validating "": error validating data: failed to download openapi: Get "https://127.0.0.1:45879/openapi/v2?timeout=32s": dial tcp 127.0.0.1:45879: connect: connection refused',
    ],
    [
      'transient',
      'Error: UPGRADE FAILED: failed to create resource: Post "https://127.0.0.1:6443/api/v1/namespaces/a/configmaps": read tcp 127.0.0.1:50000->127.0.0.1:6443: read: connection reset by peer',
    ],
    ['transient', 'Error: INSTALLATION FAILED: failed to fetch oci://127.0.0.1:5001/charts/webapp: Get "http://127.0.0.1:5001/v2/": dial tcp 127.0.0.1:5001: connect: connection refused'],
    ['transient', 'Error: UPGRADE FAILED: Get "https://127.0.0.1:6443/api/v1/namespaces/a/secrets": net/http: TLS handshake timeout'],
  ] as const)('classifies %s: %s', (kind, stderr) => {
    expect(classifyHelmOutput(stderr)).toBe(kind);
  });

  it('treats a namespace being deleted as transient, although the API says forbidden', () => {
    const stderr =
      'Error: INSTALLATION FAILED: create: failed to create: secrets "sh.helm.release.v1.d-1.v1" is forbidden: unable to create new content in namespace d-1 because it is being terminated';
    expect(classifyHelmOutput(stderr)).toBe('transient');
  });

  it('does not mistake a missing namespace for a missing chart', () => {
    expect(classifyHelmOutput('Error: INSTALLATION FAILED: create: failed to create: namespaces "d-1" not found')).toBe('transient');
  });
});

describe(summarizeHelmError.name, () => {
  it('keeps the reason and the schema violations, drops prefixes and --debug stack traces', () => {
    const stderr = [
      'install.go:225: [debug] Original chart version: ""',
      "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):",
      'webapp:',
      '- replicas: Must be less than or equal to 5',
      '- user: Additional property colour is not allowed',
      '',
      "helm.go:92: [debug] values don't meet the specifications of the schema(s) in the following chart(s):",
      'webapp:',
      'helm.sh/helm/v3/pkg/action.(*Install).RunWithContext',
      '\t/go/pkg/mod/helm.sh/helm/v3@v3.22.0/pkg/action/install.go:300',
    ].join('\n');

    expect(summarizeHelmError(stderr)).toBe(
      "values don't meet the specifications of the schema(s) in the following chart(s): webapp: - replicas: Must be less than or equal to 5 - user: Additional property colour is not allowed",
    );
  });

  it('uses the last line when helm printed no Error: line', () => {
    expect(summarizeHelmError('upgrade.go:1: [debug] preparing upgrade\nsignal: killed\n')).toBe('signal: killed');
  });

  it('keeps the errors a multierror lists under "N errors occurred:"', () => {
    const stderr = [
      'wait.go:50: [debug] beginning wait for 6 resources with timeout of 2m0s',
      'Error: 1 error occurred:',
      '\t* Get "https://127.0.0.1:6443/api/v1/namespaces/a/services/a": dial tcp 127.0.0.1:6443: connect: connection refused',
      '',
      '',
      'helm.go:92: [debug] 1 error occurred:',
      '\t* Get "https://127.0.0.1:6443/api/v1/namespaces/a/services/a": dial tcp 127.0.0.1:6443: connect: connection refused',
    ].join('\n');
    expect(summarizeHelmError(stderr)).toBe('1 error occurred: * Get "https://127.0.0.1:6443/api/v1/namespaces/a/services/a": dial tcp 127.0.0.1:6443: connect: connection refused');
  });

  it('bounds the length', () => {
    expect(summarizeHelmError(`Error: ${'x'.repeat(2000)}`).length).toBeLessThanOrEqual(500);
  });
});

describe(stripDebugPrefix.name, () => {
  it.each([
    ['upgrade.go:150: [debug] preparing upgrade for web', 'preparing upgrade for web'],
    ['wait.go:50: 2026-11-22 02:03:33.916643464 +0000 UTC m=+0.298088360 [debug] beginning wait for 5 resources with timeout of 2m0s', 'beginning wait for 5 resources with timeout of 2m0s'],
    ['W1122 02:03:33.9 warnings.go:70] would violate PodSecurity', 'W1122 02:03:33.9 warnings.go:70] would violate PodSecurity'],
  ])('turns %j into %j', (line, expected) => {
    expect(stripDebugPrefix(line)).toBe(expected);
  });
});
