// The built API (dist/) exactly as apps/api/src/main.ts builds it, but listening on 127.0.0.1
// only: the reliability suite runs it as a child process to capture its log output.
require('reflect-metadata');
const { createApiApp } = require('../../../dist/apps/api/src/bootstrap');

createApiApp()
  .then(async (app) => {
    await app.listen(Number(process.env.PORT), '127.0.0.1');
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
