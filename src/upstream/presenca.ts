/** PresençaBank client (optional per tenant): own login token cache, ~30 requests/min, term → vínculos → margem. */
import { z } from 'zod'
import type { TenantConfig } from '../config/schema.js'
import { presencaConfigured } from '../config/schema.js'
import { UpstreamError, reasonOf, upstreamInvalidResponse, upstreamRejected, upstreamUnavailable } from './errors.js'
import type { HttpClient } from './http-client.js'
import { RateLimiter } from './rate-limiter.js'

const loginSchema = z.object({ token: z.string().min(1), expireAt: z.string().optional() })
const termSchema = z.object({ autorizacaoId: z.union([z.string(), z.number()]).transform(String), shortUrl: z.string().optional() })
const vinculosSchema = z.object({
  id: z.array(z.object({ matricula: z.union([z.string(), z.number()]).transform(String), numeroInscricaoEmpregador: z.union([z.string(), z.number()]).transform(String), elegivel: z.boolean().optional() }).passthrough()),
})
const margemSchema = z.object({ valorMargemDisponivel: z.coerce.number(), valorMargemBase: z.coerce.number().optional() }).passthrough()

export type Vinculo = z.output<typeof vinculosSchema>['id'][number]
export type Margem = z.output<typeof margemSchema>

export class PresencaClient {
  #token: { value: string; until: number } | undefined
  #login: Promise<string> | undefined
  readonly #limiter = new RateLimiter(0.5) // 30 per minute

  constructor(
    private readonly http: HttpClient,
    private readonly config: () => TenantConfig,
    private readonly now: () => number = Date.now,
  ) {}

  get configured(): boolean {
    return presencaConfigured(this.config())
  }

  /** Drop the cached login (credentials changed). */
  invalidate(): void {
    this.#token = undefined
    this.#login = undefined
  }

  async requestTerm(p: { cpf: string; nome: string; telefone: string; produtoId: number }): Promise<{ autorizacaoId: string; shortUrl?: string }> {
    return this.#parse(termSchema, await this.#call('/consultas/termo-inss', p), 'termo-inss')
  }

  async vinculos(cpf: string): Promise<Vinculo[]> {
    return this.#parse(vinculosSchema, await this.#call('/v3/operacoes/consignado-privado/consultar-vinculos', { cpf }), 'consultar-vinculos').id
  }

  async margem(p: { cpf: string; matricula: string; cnpj: string }): Promise<Margem> {
    return this.#parse(margemSchema, await this.#call('/v3/operacoes/consignado-privado/consultar-margem', p), 'consultar-margem')
  }

  async #bearer(): Promise<string> {
    if (this.#token && this.#token.until > this.now()) return this.#token.value
    // Single-flight: concurrent callers share one login.
    this.#login ??= (async () => {
      try {
        const c = this.config()
        const res = await this.http.send({ upstream: 'PresençaBank', method: 'POST', url: `${this.#base()}/login`, route: 'login', json: { login: c.PRESENCABANK_LOGIN, senha: c.PRESENCABANK_PASSWORD }, idempotent: false })
        if (res.status < 200 || res.status >= 300) {
          const { text } = reasonOf(res.body, `HTTP ${res.status}`)
          throw new UpstreamError('presenca_credenciais_recusadas', `O PresençaBank recusou o login: ${text}`, 502, 'PresençaBank', { motivo: text })
        }
        const t = this.#parse(loginSchema, res.body, 'login')
        const exp = t.expireAt ? Date.parse(t.expireAt) : NaN
        this.#token = { value: t.token, until: (Number.isNaN(exp) ? this.now() + 30 * 60_000 : exp) - 60_000 }
        return t.token
      } finally {
        this.#login = undefined
      }
    })()
    return this.#login
  }

  #base(): string {
    return this.config().PRESENCABANK_URL.replace(/\/+$/, '')
  }

  async #call(path: string, json: unknown): Promise<unknown> {
    if (!this.configured) throw new UpstreamError('presenca_nao_configurado', 'PresençaBank não configurado para esta porta.', 503, 'PresençaBank')
    for (let attempt = 1; ; attempt++) {
      const token = await this.#bearer()
      await this.#limiter.acquire()
      const res = await this.http.send({ upstream: 'PresençaBank', method: 'POST', url: `${this.#base()}${path}`, route: path, headers: { authorization: `Bearer ${token}` }, json, idempotent: true })
      if (res.status === 401 && attempt === 1) {
        this.invalidate()
        continue
      }
      if (res.status >= 200 && res.status < 300) return res.body
      const { type, text } = reasonOf(res.body, `HTTP ${res.status}`)
      if (res.status >= 500) throw upstreamUnavailable('PresençaBank', path, `HTTP ${res.status}: ${text}`)
      throw upstreamRejected('PresençaBank', path, res.status, type, text)
    }
  }

  #parse<T extends z.ZodType>(schema: T, body: unknown, route: string): z.output<T> {
    const r = schema.safeParse(body)
    if (!r.success) throw upstreamInvalidResponse('PresençaBank', route, r.error.issues[0]?.message ?? 'formato inválido')
    return r.data
  }
}
