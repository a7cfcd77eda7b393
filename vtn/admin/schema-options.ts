/**
 * Fastify's JSON-schema options for a server that carries the admin API: a field a strict body
 * (`additionalProperties: false`) does not know is refused, not silently dropped (fastify's
 * default removes it), and every schema error is reported at once. A leaf module: the OpenADR
 * server (which may carry the admin API) and the admin server both take it.
 */
export const ADMIN_SCHEMA_OPTIONS = { customOptions: { removeAdditional: false, allErrors: true } } as const;
