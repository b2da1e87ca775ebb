/** A tiny REST client for end-to-end tests: real HTTP against a running Central. */
export function apiClient(baseUrl: string) {
  return async function call(method: string, path: string, token?: string, body?: unknown) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
}
export type ApiCall = ReturnType<typeof apiClient>;
