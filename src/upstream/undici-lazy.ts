/**
 * undici, loaded by the first outgoing call rather than at start: it is the largest module graph a tenant has, and a
 * tenant that has not called out yet (or never does, e.g. one only serving its cache) pays nothing for it.
 */
import type * as Undici from 'undici'

type UndiciModule = typeof Undici

let loading: Promise<UndiciModule> | undefined

export function loadUndici (): Promise<UndiciModule> {
  // Node's own import of this CommonJS package names its exports; the bundle's chunk (scripts/bundle.mjs) only has
  // the package's module.exports as its default export.
  loading ??= import('undici').then((m) => ('Agent' in m ? m : (m as { default: UndiciModule }).default))
  return loading
}

/** One undici Agent, made on first use; close() before any use closes nothing. */
export class LazyAgent {
  readonly #make: (u: UndiciModule) => Undici.Agent
  #ready: Promise<{ agent: Undici.Agent; request: UndiciModule['request'] }> | undefined

  constructor (make: (u: UndiciModule) => Undici.Agent) {
    this.#make = make
  }

  get (): Promise<{ agent: Undici.Agent; request: UndiciModule['request'] }> {
    this.#ready ??= loadUndici().then((u) => ({ agent: this.#make(u), request: u.request }))
    return this.#ready
  }

  async close (): Promise<void> {
    if (!this.#ready) return
    const { agent } = await this.#ready
    if (!agent.closed && !agent.destroyed) await agent.close()
  }
}
