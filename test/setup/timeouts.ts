// testTimeout is a global jest option, so the slow tiers set theirs here: real helm installs
// and namespace deletions on the local stack take tens of seconds.
jest.setTimeout(300_000);
