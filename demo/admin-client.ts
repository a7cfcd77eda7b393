/**
 * The demo speaks to the gateway as an operator would: through the admin REST API over HTTP, with
 * the operator's bearer token. Answers other than 2xx become a DemoError with the problem's detail.
 */
import { DemoError } from './errors.ts';

export interface AdminClient {
  get<T>(path: string): Promise<T>;
  /** GET, or undefined on 404. */
  find<T>(path: string): Promise<T | undefined>;
  post<T>(path: string, body: unknown): Promise<T>;
}

export function createAdminClient(baseUrl: string, token: string): AdminClient {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async <T>(method: string, path: string, r: Response): Promise<T> => {
    const text = await r.text();
    if (!r.ok) throw new DemoError('ADMIN_API', `${method} /api/v1${path} answered HTTP ${r.status}: ${text.slice(0, 500)}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    get: async (path) => json('GET', path, await call('GET', path)),
    async find(path) {
      const r = await call('GET', path);
      if (r.status === 404) {
        await r.body?.cancel();
        return undefined;
      }
      return json('GET', path, r);
    },
    post: async (path, body) => json('POST', path, await call('POST', path, body)),
  };
}
