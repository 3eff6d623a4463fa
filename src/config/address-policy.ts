/**
 * Where a tenant may send its upstream credentials: https to public hosts only, unless the tenant file says
 * otherwise. `SANDBOX=true` (written by `tenant:add --sandbox`) also allows loopback over http (the simulated
 * upstreams); `UPSTREAM_ALLOWLIST` names hosts, addresses or CIDRs the operator trusts (private, http). The same
 * rules check a URL when the config is read or saved and every address a connection is about to use.
 */
import { BlockList, isIP } from 'node:net'

export interface UpstreamPolicy {
  /** Loopback addresses (and plain http to them) allowed. */
  sandbox: boolean
  /** Host names (exact, or `.suffix` for a domain and its subdomains), addresses and CIDRs the operator allows. */
  allow: readonly string[]
}

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved'

const ranges = (list: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList => {
  const b = new BlockList()
  for (const [net, prefix, type] of list) b.addSubnet(net, prefix, type)
  return b
}
const LOOPBACK = ranges([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])
const LINK_LOCAL = ranges([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])
const PRIVATE = ranges([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['fc00::', 7, 'ipv6'], // unique local
])
const RESERVED = ranges([
  ['0.0.0.0', 8, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved and broadcast
  ['::', 128, 'ipv6'],
  ['100::', 64, 'ipv6'], // discard
  ['2001:db8::', 32, 'ipv6'], // documentation
  ['ff00::', 8, 'ipv6'], // multicast
])

/** An IPv4 address carried inside IPv6 (::ffff:a.b.c.d, ::ffff:7f00:1, NAT64 64:ff9b::/96), else undefined. */
function embeddedIPv4 (ip: string): string | undefined {
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (dotted) return dotted[1]
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip)
  if (!hex) return undefined
  const hi = parseInt(hex[1]!, 16)
  const lo = parseInt(hex[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** What kind of address `ip` (IPv4 or IPv6, no brackets) is. */
export function classifyAddress (ip: string): AddressClass {
  const v4 = embeddedIPv4(ip)
  if (v4 !== undefined) return classifyAddress(v4)
  const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
  if (LOOPBACK.check(ip, type)) return 'loopback'
  if (LINK_LOCAL.check(ip, type)) return 'link-local'
  if (PRIVATE.check(ip, type)) return 'private'
  if (RESERVED.check(ip, type)) return 'reserved'
  return 'public'
}

/** Why an allowlist entry is not one (undefined when it is fine). */
export function allowEntryProblem (entry: string): string | undefined {
  const [addr, prefix, extra] = entry.split('/')
  if (extra !== undefined) return `"${entry}" is not a host, address or CIDR`
  if (prefix !== undefined) {
    const version = isIP(addr ?? '')
    const max = version === 4 ? 32 : 128
    if (version === 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `"${entry}" is not a valid CIDR (e.g. 10.0.0.0/8)`
    return undefined
  }
  if (isIP(entry) !== 0) return undefined
  return /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(entry) ? undefined : `"${entry}" is not a host name, address or CIDR`
}

/** Parse the comma-separated UPSTREAM_ALLOWLIST value (lower-cased, blanks dropped). */
export function parseAllowlist (text: string): string[] {
  return text.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean)
}

const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase()

function inCidr (ip: string, cidr: string): boolean {
  const [net, prefix] = cidr.split('/')
  const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4'
  if ((isIP(ip) === 6 ? 'ipv6' : 'ipv4') !== type) {
    const v4 = embeddedIPv4(ip)
    return v4 !== undefined && type === 'ipv4' && inCidr(v4, cidr)
  }
  const b = new BlockList()
  b.addSubnet(net!, Number(prefix), type)
  return b.check(ip, type)
}

/** Whether the operator allowed this host name or address. */
export function allowed (policy: UpstreamPolicy, host: string, address?: string): boolean {
  const name = unbracket(host)
  for (const entry of policy.allow) {
    if (entry.includes('/')) {
      if (isIP(name) !== 0 && inCidr(name, entry)) return true
      if (address !== undefined && inCidr(address, entry)) return true
    } else if (entry.startsWith('.')) {
      if (name.endsWith(entry) || name === entry.slice(1)) return true
    } else if (name === entry || (address !== undefined && address === entry)) {
      return true
    }
  }
  return false
}

const isLoopbackName = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost')

export type UrlProblem = 'invalid' | 'not_https' | 'credentials' | 'loopback' | 'private_address'

export const URL_PROBLEM_TEXT: Record<UrlProblem, string> = {
  invalid: 'must be an http(s) URL',
  not_https: 'must use https (plain http only to a sandbox tenant\'s loopback or a host in UPSTREAM_ALLOWLIST)',
  credentials: 'must not carry a user or password',
  loopback: 'points at this machine (loopback); only a SANDBOX=true tenant or UPSTREAM_ALLOWLIST may',
  private_address: 'points at a private, link-local or reserved address; add it to UPSTREAM_ALLOWLIST if it is really meant',
}

/**
 * What is wrong with an upstream URL under `policy`, judged from the URL alone (a host name's addresses are
 * judged when a connection is made: addressProblem). Undefined when it is acceptable.
 */
export function urlProblem (url: string, policy: UpstreamPolicy): UrlProblem | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return 'invalid'
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'invalid'
  if (u.username !== '' || u.password !== '') return 'credentials'
  const host = unbracket(u.hostname)
  if (allowed(policy, host)) return undefined
  const kind = isIP(host) !== 0 ? classifyAddress(host) : isLoopbackName(host) ? 'loopback' : 'public'
  if (kind === 'loopback') return policy.sandbox ? undefined : 'loopback'
  if (kind !== 'public') return 'private_address'
  return u.protocol === 'https:' ? undefined : 'not_https'
}

/** Whether a connection to `address` (resolved from `host`) may be made; the reason when not. */
export function addressProblem (host: string, address: string, policy: UpstreamPolicy): UrlProblem | undefined {
  if (allowed(policy, host, address)) return undefined
  const kind = classifyAddress(unbracket(address))
  if (kind === 'public') return undefined
  if (kind === 'loopback') return policy.sandbox ? undefined : 'loopback'
  return 'private_address'
}
