/**
 * Which client IP counts behind load balancers (gateway/pipeline/client-ip.ts):
 * X-Forwarded-For only from trusted proxies, walked from the right; spoofed
 * left entries, IPv6, IPv4-mapped IPv6 and garbage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { clientIp, normalizeIp, TrustedProxies } from '../gateway/pipeline/client-ip.ts';

const TRUSTED = ['10.0.0.0/8', '192.168.1.1', '2001:db8:ffff::/48'];
const proxies = TrustedProxies.from(TRUSTED);
const CLIENT = '198.51.100.7';

describe('clientIp', () => {
  const cases: [
    name: string,
    peer: string | undefined,
    xff: string | string[] | undefined,
    want: string | undefined,
  ][] = [
    // the direct peer
    ['an untrusted peer is the client', '203.0.113.9', undefined, '203.0.113.9'],
    ['an untrusted peer’s X-Forwarded-For is ignored', '203.0.113.9', CLIENT, '203.0.113.9'],
    ['a trusted peer without X-Forwarded-For is the client', '10.0.0.1', undefined, '10.0.0.1'],
    ['an unknown peer (socket closed) gives no client', undefined, CLIENT, undefined],
    ['a peer that is not an IP gives no client', 'garbage', CLIENT, undefined],
    // the walk
    ['a trusted peer’s rightmost untrusted entry is the client', '10.0.0.1', CLIENT, CLIENT],
    ['spoofed entries left of the client are ignored', '10.0.0.1', `6.6.6.6, 7.7.7.7, ${CLIENT}`, CLIENT],
    ['a spoofed trusted address left of the client is ignored', '10.0.0.1', `10.9.9.9, ${CLIENT}`, CLIENT],
    ['trusted hops are skipped', '10.0.0.2', `6.6.6.6, ${CLIENT}, 10.0.0.1, 192.168.1.1`, CLIENT],
    ['an address next to a trusted one is not trusted', '10.0.0.1', '192.168.1.2', '192.168.1.2'],
    ['all entries trusted: the leftmost is the client', '10.0.0.2', '10.0.0.3, 10.0.0.1', '10.0.0.3'],
    ['no spaces after commas', '10.0.0.1', `6.6.6.6,${CLIENT},10.0.0.9`, CLIENT],
    ['tabs and spaces around entries', '10.0.0.1', ` \t${CLIENT}\t `, CLIENT],
    ['several header lines are one list, in order', '10.0.0.1', ['6.6.6.6', `${CLIENT}, 10.0.0.5`], CLIENT],
    // garbage stops the walk at the last trusted hop
    ['a malformed rightmost entry: the peer', '10.0.0.2', `${CLIENT}, garbage`, '10.0.0.2'],
    ['"unknown" behind a trusted hop: that hop', '10.0.0.2', 'unknown, 10.0.0.1', '10.0.0.1'],
    ['garbage left of the client does not matter', '10.0.0.1', `garbage, ${CLIENT}`, CLIENT],
    ['an empty entry stops the walk', '10.0.0.2', `${CLIENT},,10.0.0.1`, '10.0.0.1'],
    ['a trailing comma stops the walk at the peer', '10.0.0.2', `${CLIENT},`, '10.0.0.2'],
    ['an empty header: the peer', '10.0.0.2', '', '10.0.0.2'],
    ['a host name is malformed', '10.0.0.2', 'proxy.example.com', '10.0.0.2'],
    ['leading zeros are malformed (octal ambiguity)', '10.0.0.2', '010.0.0.1', '10.0.0.2'],
    ['an out-of-range octet is malformed', '10.0.0.2', '198.51.100.256', '10.0.0.2'],
    ['a port above 65535 is malformed', '10.0.0.2', `${CLIENT}:70000`, '10.0.0.2'],
    ['an RFC 7239 quoted entry is malformed', '10.0.0.2', `"${CLIENT}"`, '10.0.0.2'],
    ['a CIDR is malformed', '10.0.0.2', '198.51.100.0/24', '10.0.0.2'],
    ['a half-bracketed IPv6 is malformed', '10.0.0.2', '[2001:db8::1', '10.0.0.2'],
    // ports
    ['an IPv4 entry with a port', '10.0.0.1', `${CLIENT}:5555`, CLIENT],
    ['a bracketed IPv6 entry with a port', '10.0.0.1', '[2001:db8::42]:443', '2001:db8::42'],
    ['a bracketed IPv6 entry without a port', '10.0.0.1', '[2001:db8::42]', '2001:db8::42'],
    // IPv6
    ['an IPv6 trusted peer and client', '2001:db8:ffff::5', '2001:DB8:0:0:0:0:0:42', '2001:db8::42'],
    ['an IPv6 trusted hop is skipped', '10.0.0.1', `${CLIENT}, 2001:db8:ffff:1::9`, CLIENT],
    ['an untrusted IPv6 peer is canonical', '2001:DB8:0::1', CLIENT, '2001:db8::1'],
    ['a zone is dropped', 'fe80::1%eth0', undefined, 'fe80::1'],
    // IPv4-mapped IPv6 (a dual-stack listener reports IPv4 peers this way)
    ['a mapped trusted peer matches IPv4 CIDRs', '::ffff:10.0.0.1', CLIENT, CLIENT],
    ['a mapped untrusted peer becomes IPv4', '::ffff:203.0.113.9', CLIENT, '203.0.113.9'],
    ['a mapped client becomes IPv4', '10.0.0.1', `::ffff:${CLIENT}`, CLIENT],
    ['a mapped trusted hop is skipped', '10.0.0.1', `${CLIENT}, ::ffff:10.0.0.5`, CLIENT],
    ['a mapped client in hex becomes IPv4', '10.0.0.1', '::ffff:c633:6407', CLIENT],
    ['a mapped client in full form becomes IPv4', '10.0.0.1', `0:0:0:0:0:ffff:${CLIENT}`, CLIENT],
  ];

  it.each(cases)('%s', (_name, peer, xff, want) => {
    expect(clientIp(peer, xff, proxies)).toBe(want);
  });

  it('ignores X-Forwarded-For entirely when no proxy is trusted', () => {
    expect(clientIp('10.0.0.1', CLIENT, TrustedProxies.none)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', CLIENT, [])).toBe('10.0.0.1');
  });

  it('accepts a plain list of CIDRs, and trusts IPv4 through an IPv4-mapped CIDR', () => {
    expect(clientIp('10.0.0.1', CLIENT, TRUSTED)).toBe(CLIENT);
    expect(clientIp('10.0.0.1', CLIENT, ['::ffff:10.0.0.0/104'])).toBe(CLIENT);
    expect(clientIp('10.1.0.1', CLIENT, ['::ffff:10.0.0.0/112'])).toBe('10.1.0.1');
  });

  it('never lets entries left of the client change the answer (spoofing)', () => {
    const entry = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string(), fc.constant('10.0.0.9'));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.array(fc.constant('10.0.0.3')), (left, hops) => {
        const xff = [...left, CLIENT, ...hops].join(', ');
        expect(clientIp('10.0.0.1', xff, proxies)).toBe(CLIENT);
      }),
    );
  });
});

describe('normalizeIp', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['::1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['::FFFF:a00:7', '10.0.0.7'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::a00:7', '::a00:7'],
    ['', undefined],
    ['localhost', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4', undefined],
    ['[::1]', undefined],
    [' 1.2.3.4', undefined],
  ])('%j → %j', (text, want) => {
    expect(normalizeIp(text)).toBe(want);
  });
});

describe('TrustedProxies', () => {
  it('reports every bad entry with its index, and rejects a list that trusts everyone', () => {
    expect(
      TrustedProxies.problems([
        '10.0.0.0/8',
        '10.0.0.0/33',
        'proxy.example.com',
        '0.0.0.0/0',
        '::/0',
        '2001:db8::/129',
        '::ffff:10.0.0.0/104',
        ' 192.168.0.0/16 ',
        '',
        '10.0.0.0/8/9',
        '10.0.0.0/',
        'fe80::1%eth0',
        '2001:db8::1',
      ]).map((p) => p.index),
    ).toEqual([1, 2, 3, 4, 5, 8, 9, 10, 11]);
    expect(TrustedProxies.problems(['0.0.0.0/0'])[0]?.message).toBe(
      '"0.0.0.0/0" trusts every address, so any client could choose its own IP; name the proxies\' networks',
    );
  });

  it('refuses a bad list with config.invalid naming each entry', () => {
    try {
      TrustedProxies.from(['10.0.0.0/8', 'nope', '1.2.3.4/40']);
      expect.unreachable();
    } catch (err) {
      expect(isModgateError(err, 'config.invalid')).toBe(true);
      expect((err as Error).message).toBe(
        'trusted proxies: [1] "nope" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32); ' +
          '[2] "1.2.3.4/40" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)',
      );
    }
  });

  it('matches single addresses and CIDRs of both families', () => {
    expect(proxies.size).toBe(3);
    expect(proxies.has('10.255.255.255')).toBe(true);
    expect(proxies.has('11.0.0.0')).toBe(false);
    expect(proxies.has('192.168.1.1')).toBe(true);
    expect(proxies.has('192.168.1.2')).toBe(false);
    expect(proxies.has('2001:db8:ffff:abcd::1')).toBe(true);
    expect(proxies.has('2001:db8:fffe::1')).toBe(false);
    expect(TrustedProxies.none.has('10.0.0.1')).toBe(false);
  });
});
