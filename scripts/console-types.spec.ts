import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSOLE_TYPES_FILE, renderConsoleTypes } from './console-types';

const ROOT = join(__dirname, '..');

describe(renderConsoleTypes.name, () => {
  it('renders objects, required and optional fields, nullables, enums, arrays, refs and free-form objects', () => {
    const sut = renderConsoleTypes({
      components: {
        schemas: {
          Page: {
            type: 'object',
            required: ['items', 'next', 'status', 'counts'],
            properties: {
              items: { type: 'array', items: { $ref: '#/components/schemas/Item' } },
              next: { type: 'string', nullable: true, description: 'the */ cursor' },
              status: { type: 'string', enum: ['a', 'b'] },
              counts: { allOf: [{ $ref: '#/components/schemas/Item' }], nullable: true, type: 'object' },
              values: { type: 'object', additionalProperties: true },
              tags: { type: 'array', items: { type: 'string', nullable: true } },
            },
          },
          Item: { type: 'object', required: ['n'], properties: { n: { type: 'integer' }, ok: { type: 'boolean' } } },
        },
      },
    });
    expect(sut).toBe(
      [
        '// Generated from openapi.json by `npm run console:types`; do not edit.\n',
        '\nexport interface Item {\n  n: number;\n  ok?: boolean;\n}\n',
        '\nexport interface Page {\n',
        '  items: Item[];\n',
        '  /** the *\\/ cursor */\n  next: string | null;\n',
        '  status: "a" | "b";\n',
        '  counts: Item | null;\n',
        '  values?: Record<string, unknown>;\n',
        '  tags?: (string | null)[];\n',
        '}\n',
      ].join(''),
    );
  });

  it('refuses what it does not know rather than typing it wrong', () => {
    expect(() => renderConsoleTypes({ components: { schemas: { X: { type: 'object', properties: { a: { $ref: 'other.json#/X' } } } } } })).toThrow('unsupported $ref');
    expect(() => renderConsoleTypes({ components: { schemas: { X: { type: 'tuple' } } } })).toThrow('unsupported schema type tuple');
  });

  it('matches the committed file: run `npm run console:types` after `npm run openapi`', () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8'));
    expect(readFileSync(join(ROOT, CONSOLE_TYPES_FILE), 'utf8')).toBe(renderConsoleTypes(doc));
  });
});
