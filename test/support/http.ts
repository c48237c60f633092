/** Small fetch helpers for black-box tests against nginx or a replica. */
export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = unknown>(
  method: string,
  url: string,
  options: { token?: string; body?: unknown } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

export async function devToken(baseUrl: string, userId: string, role: 'user' | 'admin' = 'user'): Promise<string> {
  const result = await http<{ token: string }>('POST', `${baseUrl}/auth/dev-token`, { body: { userId, role } });
  if (result.status !== 201) {
    throw new Error(`dev-token failed: ${result.status} ${JSON.stringify(result.body)}`);
  }
  return result.body.token;
}
