/**
 * JSON Schema (as zod 4's `z.toJSONSchema` writes it) → rows a person can read: one per field,
 * nested objects as dotted paths, arrays as `field[]`. Pure.
 */
import { z } from 'zod';

export interface FieldRow {
  field: string;
  type: string;
  required: boolean;
  rules: string;
  description: string;
}

export interface SchemaSummary {
  /** the top-level type when it is not an object (e.g. a bare array) */
  type: string;
  fields: FieldRow[];
  /** other fields are refused (strict), kept (loose), or dropped silently (zod's default) */
  extra: 'refused' | 'allowed' | 'ignored';
  optional: boolean;
}

type Json = Record<string, unknown>;

function asJson(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

/** The JSON Schema of a zod schema as a request (input) or response (output). */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
}

/** `uuid`, `string (uri)`, `integer`, `a | b`, `string[]`, `"ok"` … */
export function typeName(schema: Json): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' \\| ');
  const anyOf = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(anyOf)) {
    const parts = anyOf.map((part) => typeName(asJson(part) ?? {}));
    const nonNull = parts.filter((part) => part !== 'null');
    const named = nonNull.join(' \\| ');
    return nonNull.length < parts.length ? `${named} \\| null` : named;
  }
  const type = schema.type;
  if (Array.isArray(type)) return type.join(' \\| ');
  if (type === 'array') return `${typeName(asJson(schema.items) ?? {})}[]`;
  if (type === 'string' && typeof schema.format === 'string') return schema.format === 'uuid' ? 'uuid' : `string (${schema.format})`;
  if (type === 'object' && schema.properties === undefined && asJson(schema.additionalProperties) !== null) {
    return `object of ${typeName(asJson(schema.additionalProperties) ?? {})}`;
  }
  return typeof type === 'string' ? type : 'any';
}

/** min/max, length, pattern (only without a format), default. */
export function rules(schema: Json): string {
  const out: string[] = [];
  const num = (key: string): number | undefined => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const range = (min: number | undefined, max: number | undefined, unit: string): void => {
    if (min !== undefined && max !== undefined) out.push(min === max ? `${unit}${min}` : `${unit}${min}–${max}`);
    else if (min !== undefined) out.push(`${unit}≥ ${min}`);
    else if (max !== undefined) out.push(`${unit}≤ ${max}`);
  };
  // z.number().int() bounds every integer to the safe range; that says nothing to a reader.
  const safe = (value: number | undefined): number | undefined => (value !== undefined && Math.abs(value) >= Number.MAX_SAFE_INTEGER ? undefined : value);
  range(safe(num('minimum')), safe(num('maximum')), '');
  range(num('minLength'), num('maxLength'), 'length ');
  range(num('minItems'), num('maxItems'), 'items ');
  if (typeof schema.pattern === 'string' && typeof schema.format !== 'string') out.push(`pattern \`${schema.pattern}\``);
  if ('default' in schema) out.push(`default ${JSON.stringify(schema.default)}`);
  return out.join(', ');
}

function walk(schema: Json, prefix: string, required: boolean, rows: FieldRow[]): void {
  const properties = asJson(schema.properties);
  if (schema.type === 'object' && properties !== null && prefix !== '') {
    rows.push({ field: prefix, type: 'object', required, rules: rules(schema), description: describe(schema) });
  }
  if (properties !== null) {
    const requiredNames = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
    for (const [name, child] of Object.entries(properties)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      walk(asJson(child) ?? {}, path, requiredNames.has(name), rows);
    }
    return;
  }
  const items = asJson(schema.items);
  if (schema.type === 'array' && items !== null && asJson(items.properties) !== null) {
    rows.push({ field: prefix, type: 'object[]', required, rules: rules(schema), description: describe(schema) });
    walk(items, `${prefix}[]`, true, rows);
    return;
  }
  if (prefix !== '') rows.push({ field: prefix, type: typeName(schema), required, rules: rules(schema), description: describe(schema) });
}

function describe(schema: Json): string {
  return typeof schema.description === 'string' ? schema.description : '';
}

/** Summarises a zod schema for the reference. */
export function summarizeSchema(schema: z.ZodType, io: 'input' | 'output'): SchemaSummary {
  const json = toJsonSchema(schema, io);
  const rows: FieldRow[] = [];
  walk(json, '', true, rows);
  const additional = json.additionalProperties;
  const extra = additional === false ? 'refused' : additional === undefined ? 'ignored' : 'allowed';
  return { type: json.properties === undefined ? typeName(json) : 'object', fields: rows, extra, optional: schema.safeParse(undefined).success };
}
