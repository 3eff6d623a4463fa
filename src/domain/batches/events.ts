/** In-process notifications "batch X changed": the event streams re-read the database when one arrives. */
import { EventEmitter } from 'node:events'

export class BatchEvents {
  readonly #emitter = new EventEmitter()

  constructor () {
    // One listener per open event stream; there is no fixed bound.
    this.#emitter.setMaxListeners(0)
  }

  /** Something about this batch changed (an item finished, was rescheduled, released or cancelled). */
  notify (batchId: string): void {
    this.#emitter.emit(batchId)
  }

  /** Call `fn` on every change of the batch until the returned function is called. */
  subscribe (batchId: string, fn: () => void): () => void {
    this.#emitter.on(batchId, fn)
    return () => {
      this.#emitter.off(batchId, fn)
    }
  }

  listenerCount (batchId: string): number {
    return this.#emitter.listenerCount(batchId)
  }
}
