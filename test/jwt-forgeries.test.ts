/**
 * Forged and unfit JWTs at the gateway, as a client sends them (Bearer, and
 * the Basic password of a netrc line): `alg: none`, HS256 keyed with the
 * IdP's public key, `jku` / `x5u` / `jwk` headers pointing modgate at an
 * attacker's keys (whose listener must receive nothing), expired, wrong
 * `aud`, wrong `iss`. Each is a 401 whose text/plain body starts with one
 * line saying why, the line the go command prints; the real IdP is the
 * only key source modgate ever asks.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_REASONS } from '../auth/jwt/jose-errors.ts';
import { httpsGet } from '../harness/https-client.ts';
import { RESOURCE, SIGNING_ALG, TestIdp } from './support/oidc-provider.ts';
import { type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';

let idp: TestIdp;
let stack: Stack;
/** The attacker's key server: every request it receives is a failure. */
let attacker: Server;
let attackerUrl: string;
const attackerHits: string[] = [];

beforeAll(async () => {
  idp = await TestIdp.start();
  attacker = createServer((req, res) => {
    attackerHits.push(`${req.method} ${req.url}`);
    res.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  stack = await startStack({
    directory: 'file',
    upstream: 'dir',
    gatewayConfig: async (config) => ({
      ...config,
      jwt: { allow_insecure_http: true, issuers: [{ issuer: idp.issuer, audiences: [RESOURCE] }] },
    }),
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await idp?.close();
  attacker?.closeAllConnections();
  await new Promise((resolve) => attacker?.close(resolve));
});

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Claims modgate would accept, were the token genuine. */
const goodClaims = () => ({
  iss: idp.issuer,
  aud: RESOURCE,
  preferred_username: 'alice',
  iat: now(),
  exp: now() + 300,
});

/**
 * A token signed with a fresh attacker key of the IdP's own algorithm, its
 * header carrying the IdP's kid and `header`: only a verifier that took the
 * header's key source would accept it.
 */
async function attackerSigned(header: (publicJwk: Record<string, unknown>) => Record<string, unknown>) {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: idp.currentKid, alg: SIGNING_ALG };
  return new SignJWT(goodClaims())
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid: idp.currentKid, ...header(publicJwk) })
    .sign(privateKey);
}

const forgeries: Array<{ name: string; token: () => Promise<string>; reason: string }> = [
  {
    name: 'alg none',
    token: async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(goodClaims())}.`,
    reason: JWT_REASONS.algorithm,
  },
  {
    name: 'HS256 keyed with the IdP’s public key (PEM)',
    token: async () => {
      const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: idp.currentKid })}.${b64url(goodClaims())}`;
      const pem = createPublicKey({ key: idp.publicJwk(), format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    },
    reason: JWT_REASONS.algorithm,
  },
  {
    name: 'a jku header at the attacker’s JWKS',
    token: () => attackerSigned(() => ({ jku: `${attackerUrl}/jku/jwks.json` })),
    reason: JWT_REASONS.signature,
  },
  {
    name: 'an x5u header at the attacker’s certificate',
    token: () => attackerSigned(() => ({ x5u: `${attackerUrl}/x5u/cert.pem` })),
    reason: JWT_REASONS.signature,
  },
  {
    name: 'the attacker’s key embedded as a jwk header',
    token: () => attackerSigned((jwk) => ({ jwk })),
    reason: JWT_REASONS.signature,
  },
  {
    name: 'expired',
    token: () => idp.signJwt({ aud: RESOURCE, preferred_username: 'alice', exp: now() - 120 }),
    reason: JWT_REASONS.expired,
  },
  {
    name: 'a wrong aud',
    token: () => idp.signJwt({ aud: 'https://elsewhere.example', preferred_username: 'alice' }),
    reason: JWT_REASONS.audience,
  },
  {
    name: 'a wrong iss (signed by the trusted IdP’s key)',
    token: () =>
      idp.signJwt({ aud: RESOURCE, iss: 'https://other-idp.example', preferred_username: 'alice' }),
    reason: JWT_REASONS.issuer,
  },
];

describe('forged and unfit JWTs are refused with one line', () => {
  it('a genuine token passes (the cases below fail for their flaw alone)', async () => {
    const token = await idp.signJwt({ aud: RESOURCE, preferred_username: 'alice' });
    const res = await httpsGet(stack.gateway.url, INFO, {
      ca: stack.pki.caPem,
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
  });

  for (const { name, token, reason } of forgeries) {
    it(`${name}: 401 "modgate: ${reason}", as Bearer and as the Basic password`, async () => {
      const jwt = await token();
      for (const authorization of [
        `Bearer ${jwt}`,
        `Basic ${Buffer.from(`alice:${jwt}`).toString('base64')}`,
      ]) {
        const res = await httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, authorization });
        expect(res.status, authorization.slice(0, 6)).toBe(401);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.headers['www-authenticate']).toMatch(/^Basic realm="/);
        expect(res.text.split('\n')[0]).toBe(`modgate: ${reason}`);
      }
    });
  }

  it('the attacker’s key server received nothing', () => {
    expect(attackerHits).toEqual([]);
  });
});
