// After test/setup/timeouts.ts: a fault scenario waits for ten deployments through an outage,
// a restart and a deletion, which can take longer than the e2e tier's five minutes per test.
jest.setTimeout(900_000);
