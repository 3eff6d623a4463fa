/** Tolerant parsing of upstream answers: check the fields we use, pass the rest, skip (and report) one odd item. */
import type { z } from 'zod'
import { upstreamInvalidResponse, type Upstream } from './errors.js'
import type { ShapeProblem, ShapeWarnings } from './shape-warnings.js'

export interface ParseContext {
  upstream: Upstream
  route: string
  warnings: ShapeWarnings
}

function problemsOf (error: z.ZodError, prefix: string, id?: string): ShapeProblem[] {
  return error.issues.slice(0, 3).map((i) => ({ path: `${prefix}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}` || '(raiz)', problem: i.message, ...(id ? { id } : {}) }))
}

/** The whole answer must match (a single object we cannot do without): else a counted warning and a 502. */
export function parseAnswer<T extends z.ZodType> (schema: T, body: unknown, ctx: ParseContext): z.output<T> {
  const r = schema.safeParse(body)
  if (r.success) return r.data
  const problems = problemsOf(r.error, '')
  ctx.warnings.warn({ upstream: ctx.upstream, route: ctx.route, action: 'answer_refused', problems })
  throw upstreamInvalidResponse(ctx.upstream, ctx.route, problems.map((p) => `${p.path}: ${p.problem}`).join('; '))
}

/** An item's own id, when it has a readable one (for the warning; never a CPF). */
function idOf (item: unknown, keys: readonly string[]): string | undefined {
  if (!item || typeof item !== 'object') return undefined
  for (const k of keys) {
    const v = (item as Record<string, unknown>)[k]
    if (typeof v === 'string' || typeof v === 'number') return String(v)
  }
  return undefined
}

/** Every item that matches; the others are skipped and reported once for the whole listing. */
export function parseItems<T extends z.ZodType> (
  items: readonly unknown[],
  schema: T,
  ctx: ParseContext & { path: string; idKeys?: readonly string[] }
): Array<z.output<T>> {
  const out: Array<z.output<T>> = []
  const problems: ShapeProblem[] = []
  items.forEach((item, i) => {
    const r = schema.safeParse(item)
    if (r.success) out.push(r.data)
    else problems.push(...problemsOf(r.error, `${ctx.path}[${i}]`, idOf(item, ctx.idKeys ?? ['id'])).slice(0, 1))
  })
  if (problems.length > 0) ctx.warnings.warn({ upstream: ctx.upstream, route: ctx.route, action: 'item_skipped', problems })
  return out
}

/** `[]` for a bare array, else the key holding the list. */
export type ListForm = '[]' | (string & {})

/**
 * The array inside a listing answer: a bare array, or one of `forms`' keys holding it (`{data:[…]}`). Forms in
 * `attested` were seen in real answers; the others are variants other callers defend against, accepted with a
 * warning so drift shows. An answer in none of them is refused (an empty list and a changed contract look alike).
 */
export function listOf (body: unknown, ctx: ParseContext & { forms: readonly ListForm[]; attested: readonly ListForm[] }): { items: unknown[]; path: string } {
  const accept = (form: ListForm, items: unknown[]): { items: unknown[]; path: string } => {
    if (!ctx.attested.includes(form)) {
      ctx.warnings.warn({ upstream: ctx.upstream, route: ctx.route, action: 'variant_accepted', problems: [{ path: form === '[]' ? '(raiz)' : form, problem: `list as ${form === '[]' ? 'a bare array' : `{${form}: […]}`}` }] })
    }
    return { items, path: form === '[]' ? '' : form }
  }
  if (Array.isArray(body) && ctx.forms.includes('[]')) return accept('[]', body)
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const form of ctx.forms) {
      const v = (body as Record<string, unknown>)[form]
      if (form !== '[]' && Array.isArray(v)) return accept(form, v)
    }
  }
  const problem = typeof body === 'string' ? 'text instead of JSON' : `expected ${ctx.forms.map((f) => (f === '[]' ? '[…]' : `{${f}: […]}`)).join(' or ')}`
  ctx.warnings.warn({ upstream: ctx.upstream, route: ctx.route, action: 'answer_refused', problems: [{ path: '(raiz)', problem }] })
  throw upstreamInvalidResponse(ctx.upstream, ctx.route, problem)
}
