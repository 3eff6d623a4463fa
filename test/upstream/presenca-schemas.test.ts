/** PresençaBank answer reading beyond the fixtures: amounts as text, error texts other callers match on, expireAt forms. */
import t from 'tap'
import { parseExpireAt } from '../../src/upstream/presenca.js'
import { classify, marginItem, reasonText, textAmount, toMargem } from '../../src/upstream/presenca-schemas.js'

t.test('amounts as text in every spelling callers parse', async (t) => {
  t.same(['833.43', '833,43', '-152,37', '1.234,56', '1,234.56', '2381'].map(textAmount), [833.43, 833.43, -152.37, 1234.56, 1234.56, 2381], 'numbers')
  t.ok(Number.isNaN(textAmount('R$ abc')), 'not a number')
  const m = toMargem(marginItem.parse({ valorMargemDisponivel: '1.234,56', valorMargemBase: '3.527,31' }), 'objeto')
  t.match(m, { disponivel: 1234.56, base: 3527.31, totalDevido: null, sexo: null }, 'a margin sent as text')
  t.notOk(marginItem.safeParse({ valorMargemDisponivel: 'abc' }).success, 'an unreadable margin is refused, not read as 0')
  t.notOk(marginItem.safeParse({ nomeMae: 'X' }).success, 'no margin field at all is refused')
})

t.test('refusals classified by status, text and code', async (t) => {
  const cases: Array<[number, unknown, string | undefined]> = [
    [400, { message: 'Não foi possível retornar a consulta, é necessario uma autorização válida' }, 'termo_nao_autorizado'],
    [400, { errors: ['x'], errorCodes: ['TERMO_INVALIDO_OU_AUSENTE'] }, 'termo_nao_autorizado'],
    [400, { code: 'TERMO_INVALIDO_OU_AUSENTE', message: 'Termo de autorização inválido ou ausente' }, 'termo_nao_autorizado'],
    [400, { message: 'Termo de autorização inválido ou ausente' }, 'termo_nao_autorizado'],
    [400, { detail: 'É necessário obter um termo válido' }, 'termo_nao_autorizado'],
    [403, '', 'termo_nao_autorizado'],
    [400, { errors: ['Telefone já utilizado em termo para outro cliente.'] }, 'telefone_em_uso'],
    [400, { errors: { Cpf: ['CPF não encontrado na base'] } }, 'cpf_nao_encontrado'],
    [400, { result: 'cpfTrabalhador inválido' }, 'cpf_nao_encontrado'],
    [400, { messages: ['Virada de folha em andamento'] }, 'virada_de_folha'],
    [400, { errors: ['Limite de consulta excedido'] }, 'limite_de_consulta'],
    [400, { errors: ['Falha ao realizar simulação'] }, undefined],
    // The code "somewhere in the body": in error objects of a list, or deeper.
    [400, { success: false, errors: [{ code: 'TERMO_INVALIDO_OU_AUSENTE', message: 'Não foi possível retornar a consulta' }] }, 'termo_nao_autorizado'],
    [400, { data: { erro: { codigo: 'TERMO_INVALIDO_OU_AUSENTE' } } }, 'termo_nao_autorizado'],
    [400, { errors: [{ key: 'cpf', message: 'Telefone já utilizado em termo para outro cliente.' }] }, 'telefone_em_uso'],
    [400, { result: { detalhe: 'x', lista: ['MARGEM_OU_VALOR_INSUFICIENTE'] } }, 'margem_insuficiente'],
    // Words in a field callers do not read do not change the verdict.
    [400, { errors: ['CPF não encontrado na base'], termo: { id: 'x', situacao: 'invalido' } }, 'cpf_nao_encontrado'],
  ]
  for (const [status, body, want] of cases) t.equal(classify(status, body), want, `${status} ${JSON.stringify(body)} → ${want}`)
  t.equal(reasonText({ errors: { termoId: ['bad'] }, title: 'One or more validation errors occurred.' }, 'x'), 'bad | One or more validation errors occurred.', 'a ProblemDetails reason')
  t.equal(reasonText('', 'HTTP 500'), 'HTTP 500', 'an empty body falls back')
  t.equal(reasonText({ errors: [{ code: 'X_Y', message: 'Mensagem do erro' }] }, 'x'), 'Mensagem do erro', 'the message of an error object in a list')
})

t.test('expireAt with an offset, without one (UTC), or unreadable', async (t) => {
  t.equal(parseExpireAt('2026-06-15T22:00:00Z'), Date.UTC(2026, 5, 15, 22), 'Z')
  t.equal(parseExpireAt('2026-06-15T22:00:00'), Date.UTC(2026, 5, 15, 22), 'naive → UTC')
  t.equal(parseExpireAt('2026-06-15 22:00:00.123'), Date.UTC(2026, 5, 15, 22, 0, 0, 123), 'blank separator, fraction')
  t.equal(parseExpireAt('2026-06-15T19:00:00-03:00'), Date.UTC(2026, 5, 15, 22), 'offset')
  t.ok(Number.isNaN(parseExpireAt('amanhã')), 'unreadable')
})
