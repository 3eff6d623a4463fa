/** V8 webhooks for one tenant: take a delivery (check the path secret, store, wake the applier), and report their state. */
import type { Logger } from '../../log/logger.js'
import { parseV8Event } from '../../upstream/v8-events.js'
import type { WebhookKind } from '../../upstream/v8-operations.js'
import type { EventApplier } from './applier.js'
import type { InboxRow, WebhookInbox } from './inbox.js'
import type { RegistrationView, WebhookRegistrar } from './registration.js'

export type Receipt = { accepted: false } | { accepted: true; id: string; duplicate: boolean; type: string }

export interface WebhookStatus {
  /** The URL V8 is given, secret masked. */
  url: { consult: string; operation: string } | null
  registrations: RegistrationView[]
  /** Deliveries to a wrong secret since start. */
  refused: number
  events: { pending: number; applied: number; ignored: number; failed: number; duplicates: number }
}

export class WebhookService {
  constructor (
    readonly registrar: WebhookRegistrar,
    readonly inbox: WebhookInbox,
    private readonly applier: Pick<EventApplier, 'wake'>,
    private readonly logger: Logger,
    private readonly now: () => number
  ) {}

  /**
   * One delivery from V8. A wrong secret is refused (and counted); anything else is stored before the caller
   * answers, so a 2xx means V8's event is safe here whatever applying it later gives.
   */
  receive (secret: string, kind: WebhookKind | undefined, payload: unknown): Receipt {
    if (!this.registrar.isSecret(secret)) {
      this.registrar.refused++
      return { accepted: false }
    }
    const event = parseV8Event(payload)
    if (event.kind === 'test' || event.kind === 'registered') this.registrar.handshake(kind, event.kind)
    if (event.kind === 'unknown') this.logger.warn({ type: event.type, problem: event.problem }, 'v8 webhook: event not understood; stored, not applied')
    const stored = this.inbox.store(event, payload, this.now())
    if (!stored.duplicate && (event.kind === 'consult' || event.kind === 'operation')) this.applier.wake()
    return { accepted: true, id: stored.id, duplicate: stored.duplicate, type: event.type }
  }

  /** A delivery to a path that is not ours (unknown kind): counted like a wrong secret. */
  refuse (): void {
    this.registrar.refused++
  }

  status (): WebhookStatus {
    const regs = this.registrar.status()
    const configured = regs.some((r) => r.status !== 'not_configured')
    const { pending, applied, ignored, failed, duplicates } = this.inbox.counts()
    return {
      url: configured ? { consult: this.registrar.shownUrl('consult'), operation: this.registrar.shownUrl('operation') } : null,
      registrations: regs,
      refused: this.registrar.refused,
      events: { pending, applied, ignored, failed, duplicates },
    }
  }

  recent (limit: number): InboxRow[] {
    return this.inbox.recent(limit)
  }
}
