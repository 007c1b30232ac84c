// Jest globalTeardown: deliberately stops nothing. The stack is shared by every test run
// and by `npm run dev`, and starting it costs seconds when warm but minutes when not, so
// it stays up; `npm run stack:down` stops it. Tests clean up their own namespaces and
// releases.
export default async function globalTeardown(): Promise<void> {}
