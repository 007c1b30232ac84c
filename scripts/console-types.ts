/**
 * `npm run console:types`: writes the console's view of the REST API's shapes
 * (apps/console/src/api/openapi.types.ts) from the committed openapi.json, so the console's
 * types follow the server's DTOs instead of repeating them. A unit test fails when the file is
 * stale. It covers what the API's documents use: objects, arrays, enums, nullable, $ref and
 * allOf of one $ref, and free-form objects.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONSOLE_TYPES_FILE = join('apps', 'console', 'src', 'api', 'openapi.types.ts');

export interface SchemaObject {
  type?: string;
  enum?: unknown[];
  nullable?: boolean;
  $ref?: string;
  allOf?: SchemaObject[];
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  additionalProperties?: boolean | SchemaObject;
  description?: string;
}

export interface OpenApiDocument {
  components?: { schemas?: Record<string, SchemaObject> };
}

const refName = (ref: string): string => {
  const m = /^#\/components\/schemas\/(\w+)$/.exec(ref);
  if (!m) throw new Error(`unsupported $ref ${ref}`);
  return m[1];
};

/** The TypeScript type of a schema (without its nullability). */
function typeOf(s: SchemaObject, indent: string): string {
  if (s.$ref) return refName(s.$ref);
  if (s.allOf) {
    if (s.allOf.length !== 1) throw new Error('allOf of more than one schema is not supported');
    return typeOf(s.allOf[0], indent);
  }
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  switch (s.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `${wrap(s.items ? withNull(s.items, indent) : 'unknown')}[]`;
    case 'object':
    case undefined:
      if (s.properties) return objectType(s, indent);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') return `Record<string, ${withNull(s.additionalProperties, indent)}>`;
      return s.type === 'object' || s.additionalProperties ? 'Record<string, unknown>' : 'unknown';
    default:
      throw new Error(`unsupported schema type ${s.type}`);
  }
}

const withNull = (s: SchemaObject, indent: string): string => (s.nullable ? `${typeOf(s, indent)} | null` : typeOf(s, indent));
const wrap = (t: string): string => (/[|&]/.test(t) ? `(${t})` : t);
const comment = (text: string | undefined, indent: string): string => (text ? `${indent}/** ${text.replace(/\*\//g, '*\\/').replace(/\s*\n\s*/g, ' ')} */\n` : '');

function objectType(s: SchemaObject, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(s.required ?? []);
  const lines = Object.entries(s.properties ?? {}).map(([name, p]) => `${comment(p.description, inner)}${inner}${name}${required.has(name) ? '' : '?'}: ${withNull(p, inner)};\n`);
  return `{\n${lines.join('')}${indent}}`;
}

/** The module for a document: one exported interface (or type) per component schema, in name order. */
export function renderConsoleTypes(doc: OpenApiDocument): string {
  const schemas = doc.components?.schemas ?? {};
  const out = ['// Generated from openapi.json by `npm run console:types`; do not edit.\n'];
  for (const name of Object.keys(schemas).sort()) {
    const s = schemas[name];
    out.push(`\n${comment(s.description, '')}`);
    out.push(s.properties ? `export interface ${name} ${objectType(s, '')}\n` : `export type ${name} = ${withNull(s, '')};\n`);
  }
  return out.join('');
}

if (require.main === module) {
  const root = join(__dirname, '..');
  const doc = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf8')) as OpenApiDocument;
  writeFileSync(join(root, CONSOLE_TYPES_FILE), renderConsoleTypes(doc));
  console.log(`wrote ${CONSOLE_TYPES_FILE}`);
}
