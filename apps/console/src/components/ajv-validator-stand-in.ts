// @rjsf/core's index re-exports a test helper that imports @rjsf/validator-ajv8 (only a dev
// dependency of theirs). The console never uses it; the build points that import here.
import { cspSafeValidator } from './schema-validator';

export default cspSafeValidator;
