import type { Request } from './types';

/** What the crash report keeps of a request; last-ditch redacts the query and the headers. */
export function describeRequest(request: Request): Record<string, unknown> {
  const requestId = request.id ?? request.headers['x-request-id'];
  return {
    ...(request.method === undefined ? {} : { method: request.method }),
    url: request.originalUrl ?? request.url ?? '',
    ...(typeof requestId === 'string' ? { id: requestId } : {}),
    ...(request.socket.remoteAddress === undefined
      ? {}
      : { remoteAddress: request.socket.remoteAddress }),
    headers: request.headers,
  };
}

/** An error that carries an HTTP status (http-errors, `{ status: 404 }`): sent on purpose. */
export function hasHttpStatus(error: unknown): boolean {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = status ?? statusCode;
  return Number.isInteger(code) && (code as number) >= 400 && (code as number) <= 599;
}
