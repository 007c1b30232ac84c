// jsdom's window has no structuredClone, which react-jsonschema-form uses (browsers all have it).
import { deserialize, serialize } from 'node:v8';

if (typeof globalThis.structuredClone !== 'function') {
  globalThis.structuredClone = <T>(value: T): T => deserialize(serialize(value)) as T;
}
