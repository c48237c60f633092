import { InvalidLockKeyError } from './lock.errors';

/** Parameter names of a function, from its source; destructured or unusual parameters become null. */
export function parameterNames(fn: (...args: never[]) => unknown): (string | null)[] {
  const source = Function.prototype.toString.call(fn);
  const open = source.indexOf('(');
  if (open < 0) {
    return [];
  }
  let depth = 0;
  let current = '';
  const params: string[] = [];
  for (let i = open + 1; i < source.length; i++) {
    const char = source[i];
    if ('([{'.includes(char)) {
      depth++;
    } else if (')]}'.includes(char)) {
      if (depth === 0) {
        break;
      }
      depth--;
    }
    if (char === ',' && depth === 0) {
      params.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  params.push(current);
  return params
    .map((param) => param.replace(/\/\*[\s\S]*?\*\//g, '').trim())
    .filter((param) => param.length > 0)
    .map((param) => {
      const name = param
        .replace(/^\.\.\./, '')
        .split('=')[0]
        .trim();
      return /^[A-Za-z_$][\w$]*$/.test(name) ? name : null;
    });
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

/**
 * Compiles a key template such as `order:{userId}` or `order:{dto.userId}:{1}` against a method's
 * parameter names. A placeholder is a parameter name (or index) followed by an optional property path.
 * Unknown names fail at decoration time; values must be non-empty strings, numbers or bigints.
 */
export function compileKeyTemplate(template: string, params: (string | null)[]): (args: unknown[]) => string {
  const parts: (string | { index: number; path: string[]; expression: string })[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    parts.push(template.slice(last, match.index));
    const [root, ...path] = match[1].split('.');
    const index = /^\d+$/.test(root) ? Number(root) : params.indexOf(root);
    if (index < 0) {
      throw new Error(
        `Lock key template "${template}": no parameter named "${root}" (parameters: ${params.join(', ')}); ` +
          'use a parameter name or its index, e.g. {0.userId}',
      );
    }
    parts.push({ index, path, expression: match[1] });
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(template.slice(last));
  return (args) =>
    parts
      .map((part) => {
        if (typeof part === 'string') {
          return part;
        }
        let value: unknown = args[part.index];
        for (const key of part.path) {
          value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[key];
        }
        if (typeof value === 'number' || typeof value === 'bigint') {
          return String(value);
        }
        if (typeof value !== 'string' || value.length === 0 || /[{}\s]/.test(value)) {
          throw new InvalidLockKeyError(`Lock key value {${part.expression}} is missing or invalid`, template);
        }
        return value;
      })
      .join('');
}
