import type { EventEmitter } from 'node:events';

/** Any listener an `EventEmitter` accepts. */
export type Listener = Parameters<EventEmitter['on']>[1];

/**
 * Keeps `listener` first on `event`, but only while the emitter has a listener of its own for
 * that event. Node changes behaviour on the mere presence of some listeners: an http server
 * with an `upgrade` listener hands the socket over instead of answering, one with a
 * `checkContinue` listener stops sending `100 Continue`, and an http2 server with a `request`
 * listener turns on its compatibility layer. Our tracking must never flip those switches.
 *
 * Returns a function that detaches everything it attached.
 */
export function shadowListener(
  emitter: EventEmitter,
  event: string,
  listener: Listener,
): () => void {
  let isAttached = false;
  const attach = (): void => {
    if (isAttached) return;
    isAttached = true;
    emitter.prependListener(event, listener);
  };
  const detach = (): void => {
    if (!isAttached) return;
    isAttached = false;
    emitter.removeListener(event, listener);
  };
  const onNewListener = (name: string | symbol, added: unknown): void => {
    if (name === event && added !== listener) attach();
  };
  const onRemoveListener = (name: string | symbol, removed: unknown): void => {
    if (name === event && removed !== listener && emitter.listenerCount(event) === 1) detach();
  };
  if (emitter.listenerCount(event) > 0) attach();
  emitter.on('newListener', onNewListener);
  emitter.on('removeListener', onRemoveListener);
  return () => {
    emitter.removeListener('newListener', onNewListener);
    emitter.removeListener('removeListener', onRemoveListener);
    detach();
  };
}
