import { ArgumentMetadata, createParamDecorator, ExecutionContext, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';
import { FieldProblem, invalidInput } from '../../../../libs/domain/src';

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message: message.replace(new RegExp(`^${e.property}\\s`), '') }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** whitelist + forbidNonWhitelisted: unknown fields are rejected, not silently dropped. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return invalidInput(`invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`, fields);
    },
  });
}

/**
 * An optional body field that may be left out but is never null: class-validator's IsOptional
 * lets null through unvalidated, and a null name or description then reached the services
 * (a 500 on PUT /products) or was silently taken for "not given".
 */
export const IsOptionalNotNull = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);

/**
 * A free-form JSON field (values, schemas) taken exactly as parsed. class-transformer would
 * rebuild it and silently drop keys such as `constructor`, `toString` or `valueOf`, which are
 * ordinary keys of a Helm values document; they are kept. (`__proto__` is refused as the body
 * is parsed, see json-depth.ts.)
 */
export const RawJson = (): PropertyDecorator => Transform(({ obj, key }) => (obj as Record<string, unknown>)[key], { toClassOnly: true });

/** UUID route parameters, with the parameter named in the error. */
@Injectable()
export class UuidParam implements PipeTransform<string, string> {
  private static readonly UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  transform(value: string, meta: ArgumentMetadata): string {
    if (typeof value !== 'string' || !UuidParam.UUID.test(value)) {
      const name = meta.data ?? 'id';
      throw invalidInput(`${name} must be a UUID`, [{ field: name, message: 'must be a UUID' }]);
    }
    return value.toLowerCase();
  }
}

/** Optional If-Match header carrying the generation a client last saw. */
export function parseIfMatch(header: unknown): number | undefined {
  if (header === undefined || header === '') return undefined;
  const m = typeof header === 'string' ? /^(?:W\/)?"?([0-9]{1,9})"?$/.exec(header.trim()) : null;
  if (!m) throw invalidInput('If-Match must be a deployment generation such as "3"', [{ field: 'If-Match', message: 'must be a generation number' }]);
  return Number(m[1]);
}

/** The parsed If-Match header (documented once with @ApiHeader; a custom decorator keeps Swagger from listing it twice). */
export const IfMatch = createParamDecorator((_: unknown, ctx: ExecutionContext): number | undefined =>
  parseIfMatch(ctx.switchToHttp().getRequest<{ headers?: Record<string, unknown> }>().headers?.['if-match']),
);
