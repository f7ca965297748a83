/**
 * Which client IP counts (for the source throttle, logs and audit) when modgate
 * runs behind load balancers or reverse proxies.
 *
 * The rule, for `X-Forwarded-For` (the de-facto header; each proxy appends
 * the address it received the request from, so the right end is written by
 * the proxies nearest to modgate and the left end by whoever sent it):
 *
 * 1. The direct peer (the socket's remote address) is the client unless it is
 *    a trusted proxy. An untrusted peer's `X-Forwarded-For` is ignored: anyone
 *    can send one.
 * 2. From a trusted peer, walk the list from the right, skipping addresses of
 *    trusted proxies; the first untrusted address is the client. Entries
 *    further left were written by that client or on its say-so and are never
 *    read, so a spoofed `X-Forwarded-For: 1.2.3.4` from a client changes nothing.
 * 3. When the walk cannot go on — an entry is empty or not an IP address
 *    (`unknown`, a host name, garbage), or every entry is trusted — the client
 *    is the last trusted hop reached (the peer itself when the header is
 *    absent or its rightmost entry is malformed): the proxy that handed over
 *    the unusable entry is the leftmost address known to be true. One rule
 *    for both cases; never a guess further left.
 *
 * Entries may carry a port (`1.2.3.4:5678`, `[2001:db8::1]:443`, as some
 * load balancers write them); it is dropped. Several `X-Forwarded-For` header
 * lines count as one list, in order (RFC 9110 §5.3). Addresses are
 * normalised so one client has one spelling: IPv4-mapped IPv6
 * (`::ffff:10.0.0.7`) becomes IPv4, IPv6 is lower-cased and compressed
 * (RFC 5952), a zone (`%eth0`) is dropped.
 */
import { BlockList, isIP } from 'node:net';
import { ModgateError } from '../../core/errors.ts';

/** A problem in a trusted-proxies list; `index` is the entry's position, for a config key path. */
export interface TrustedProxyProblem {
  readonly index: number;
  readonly message: string;
}

/** A compiled list of trusted proxy addresses and CIDRs (IPv4 and IPv6), matched with node:net's BlockList. */
export class TrustedProxies {
  /** No proxy is trusted: the socket's peer is always the client. */
  static readonly none = new TrustedProxies(new BlockList(), 0);

  readonly #list: BlockList;
  /** Entries in the list (0 for `none`). */
  readonly size: number;

  private constructor(list: BlockList, size: number) {
    this.#list = list;
    this.size = size;
  }

  /**
   * Compiles `entries` (`10.0.0.0/8`, `10.1.2.3`, `2001:db8::/32`,
   * `::ffff:10.0.0.0/104`). Throws `config.invalid` naming every bad entry.
   */
  static from(entries: readonly string[]): TrustedProxies {
    const problems = TrustedProxies.problems(entries);
    if (problems.length > 0) {
      throw new ModgateError(
        'config.invalid',
        `trusted proxies: ${problems.map((p) => `[${p.index}] ${p.message}`).join('; ')}`,
      );
    }
    const list = new BlockList();
    for (const entry of entries) {
      const { address, prefix, family } = parseCidr(entry) as ParsedCidr;
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, prefix, family);
    }
    return new TrustedProxies(list, entries.length);
  }

  /** Every problem in `entries`, without side effects, for config validation. */
  static problems(entries: readonly string[]): TrustedProxyProblem[] {
    const problems: TrustedProxyProblem[] = [];
    entries.forEach((entry, index) => {
      const parsed = parseCidr(entry);
      if (parsed === undefined) {
        problems.push({
          index,
          message: `"${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`,
        });
      } else if (parsed.prefix === 0) {
        problems.push({
          index,
          message: `"${entry}" trusts every address, so any client could choose its own IP; name the proxies' networks`,
        });
      }
    });
    return problems;
  }

  /** Whether the normalised `address` (see `normalizeIp`) is a trusted proxy. */
  has(address: string): boolean {
    return this.size > 0 && this.#list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
}

/** Lists given as plain arrays, compiled once per array object. */
const compiled = new WeakMap<readonly string[], TrustedProxies>();

/**
 * The client IP of a request (rules above): `remoteAddress` is the socket's
 * peer, `xForwardedFor` the header as Node gives it. Pass a `TrustedProxies`
 * compiled at start; a plain array is compiled on first use (and throws
 * `config.invalid` when bad). Returns undefined only when the peer is unknown
 * (a socket already closed) or not an IP.
 */
export function clientIp(
  remoteAddress: string | undefined,
  xForwardedFor: string | readonly string[] | undefined,
  trustedProxies: TrustedProxies | readonly string[],
): string | undefined {
  const trusted = trustedProxies instanceof TrustedProxies ? trustedProxies : compile(trustedProxies);
  const peer = remoteAddress === undefined ? undefined : normalizeIp(remoteAddress);
  if (peer === undefined || !trusted.has(peer) || xForwardedFor === undefined) return peer;
  const hops = (typeof xForwardedFor === 'string' ? xForwardedFor : xForwardedFor.join(',')).split(',');
  let lastTrusted = peer;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = parseHop(hops[i] ?? '');
    if (hop === undefined) return lastTrusted;
    if (!trusted.has(hop)) return hop;
    lastTrusted = hop;
  }
  return lastTrusted;
}

/**
 * `text` as one canonical IP address, or undefined when it is not one:
 * IPv4 in dotted decimal (IPv4-mapped IPv6 included), IPv6 lower-cased and
 * compressed, any zone dropped.
 */
export function normalizeIp(text: string): string | undefined {
  const version = isIP(text);
  if (version === 4) return text;
  if (version !== 6) return undefined;
  const zone = text.indexOf('%');
  // WHATWG URL serialises IPv6 hosts in RFC 5952 form.
  const canonical = new URL(`http://[${zone < 0 ? text : text.slice(0, zone)}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped === null) return canonical;
  const high = Number.parseInt(mapped[1] ?? '', 16);
  const low = Number.parseInt(mapped[2] ?? '', 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** Bracketed IPv6 with an optional port, or dotted IPv4 with a port. */
const HOP_WITH_PORT = /^(?:\[([^\]]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}))?$/;

/** One `X-Forwarded-For` entry as a normalised address, or undefined when malformed. */
function parseHop(entry: string): string | undefined {
  const text = entry.trim();
  const withPort = HOP_WITH_PORT.exec(text);
  if (withPort === null) return normalizeIp(text);
  const [, v6, v4, port] = withPort;
  if (port !== undefined && Number(port) > 65535) return undefined;
  if (v6 !== undefined) return isIP(v6) === 6 ? normalizeIp(v6) : undefined;
  return isIP(v4 ?? '') === 4 ? v4 : undefined;
}

interface ParsedCidr {
  readonly address: string;
  readonly prefix: number | undefined;
  readonly family: 'ipv4' | 'ipv6';
}

function parseCidr(entry: string): ParsedCidr | undefined {
  const match = /^([^/\s%]+)(?:\/(\d{1,3}))?$/.exec(entry.trim());
  if (match === null) return undefined;
  const [, address = '', bits] = match;
  const version = isIP(address);
  if (version === 0) return undefined;
  const prefix = bits === undefined ? undefined : Number(bits);
  if (prefix !== undefined && prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function compile(entries: readonly string[]): TrustedProxies {
  let list = compiled.get(entries);
  if (list === undefined) {
    list = TrustedProxies.from(entries);
    compiled.set(entries, list);
  }
  return list;
}
