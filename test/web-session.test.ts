/**
 * The pieces of the browser pages that need no browser: HTML escaping, the
 * sealed session cookie, CSRF checks and the set-up lines the page offers.
 */
import type { IncomingMessage } from 'node:http';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { hostCookie, parseCookies, SealedCookies } from '../gateway/people/web/cookies.ts';
import { Csrf } from '../gateway/people/web/csrf.ts';
import { escapeHtml, html } from '../gateway/people/web/html.ts';
import { fromOidcError } from '../gateway/people/web/login.ts';
import { SESSION_COOKIE, Sessions } from '../gateway/people/web/session.ts';
import { caLine, envLines, netrcLines } from '../gateway/people/web/setup-lines.ts';
import { MemoryStore } from '../gateway/state/memory-store.ts';

const KEY = 'a-session-key-of-at-least-32-characters!';
const PUBLIC_URL = 'https://goproxy.test:8443';

/** A request with just the headers these helpers read. */
function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

/** The cookie value of a Set-Cookie header, as a browser would send it back. */
function cookieOf(setCookie: string): string {
  return setCookie.split(';', 1)[0] as string;
}

describe('html escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"onmouseover="x', '&quot;onmouseover=&quot;x'],
    ["it's", 'it&#39;s'],
    ['a & b', 'a &amp; b'],
    ['&amp;', '&amp;amp;'],
    ['plain zoë', 'plain zoë'],
  ])('escapeHtml(%j) = %j', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it('the html template escapes values but not nested html, and drops null/undefined/false', () => {
    const name = '<b>x</b>';
    const inner = html`<em>${name}</em>`;
    expect(html`<p title="${name}">${inner}${[name, 1]}${undefined}${null}${false}</p>`.text).toBe(
      '<p title="&lt;b&gt;x&lt;/b&gt;"><em>&lt;b&gt;x&lt;/b&gt;</em>&lt;b&gt;x&lt;/b&gt;1</p>',
    );
  });
});

describe('session cookie', () => {
  it('is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/ and has no Domain', () => {
    const sessions = new Sessions(new SealedCookies(KEY), new MemoryStore(), 60_000);
    const { setCookie } = sessions.start('alice');
    expect(setCookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    expect(SESSION_COOKIE.startsWith('__Host-')).toBe(true);
    expect(setCookie).toMatch(/; Max-Age=60; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(setCookie).not.toMatch(/domain/i);
    expect(setCookie).not.toContain('alice');
  });

  it('opens with the same key in another process; not with another key, tampered, moved or expired', async () => {
    let now = 1_000_000;
    const store = new MemoryStore();
    const one = new Sessions(new SealedCookies(KEY), store, 60_000, () => now);
    const two = new Sessions(new SealedCookies(KEY), store, 60_000, () => now);
    const { session, setCookie } = one.start('alice');
    const cookie = cookieOf(setCookie);
    expect(await two.current(request({ cookie }))).toEqual(session);

    const other = new Sessions(new SealedCookies(`${KEY}-other`), store, 60_000, () => now);
    expect(await other.current(request({ cookie }))).toBeUndefined();
    const tampered = cookie.slice(0, -2) + (cookie.endsWith('A') ? 'B' : 'A') + cookie.slice(-1);
    expect(await two.current(request({ cookie: tampered }))).toBeUndefined();
    // A value sealed under another cookie name does not open as a session.
    const login = new SealedCookies(KEY).seal('__Host-modgate-login', session, 60);
    expect(await two.current(request({ cookie: `${SESSION_COOKIE}=${cookieOf(login).split('=')[1]}` }))).toBe(
      undefined,
    );
    now += 60_000;
    expect(await two.current(request({ cookie }))).toBeUndefined();
  });

  it('sign-out ends the session for every copy of the cookie', async () => {
    const sessions = new Sessions(new SealedCookies(KEY), new MemoryStore(), 60_000);
    const { session, setCookie } = sessions.start('alice');
    const cookie = cookieOf(setCookie);
    const cleared = await sessions.end(session);
    expect(cleared).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax$`),
    );
    expect(await sessions.current(request({ cookie }))).toBeUndefined();
  });

  it('parses cookie headers and builds host cookies', () => {
    expect([...parseCookies(request({ cookie: 'a=1; b = 2;c=x=y; a=3; bad' }))]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', 'x=y'],
    ]);
    expect(hostCookie('__Host-x', 'v', 1.9)).toBe(
      '__Host-x=v; Max-Age=1; Path=/; Secure; HttpOnly; SameSite=Lax',
    );
  });
});

describe('CSRF', () => {
  const csrf = new Csrf(KEY, `${PUBLIC_URL}/`);
  const session = { user: 'alice', sid: 'sid-1', expiresAtMs: Date.now() + 60_000 };
  const token = csrf.token(session);
  const reasonOf = (headers: Record<string, string>, submitted: string | undefined) => {
    try {
      csrf.check(request(headers), submitted, session);
      return 'ok';
    } catch (err) {
      expect(isModgateError(err, 'request.forbidden')).toBe(true);
      return (err as Error).message;
    }
  };

  it.each([
    ['same origin with the token', { origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' }, token, 'ok'],
    [
      'Origin null from a same-origin no-referrer page',
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
      token,
      'ok',
    ],
    ['no browser headers (curl) with the token', {}, token, 'ok'],
    [
      'no token',
      { origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' },
      undefined,
      'missing or invalid CSRF token; reload the page and try again',
    ],
    [
      'another session’s token',
      {},
      csrf.token({ ...session, sid: 'sid-2' }),
      'missing or invalid CSRF token; reload the page and try again',
    ],
    [
      'a cross-site post',
      { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
      token,
      'cross-site form submission refused (Sec-Fetch-Site: cross-site)',
    ],
    [
      'another origin without fetch metadata',
      { origin: 'https://evil.test' },
      token,
      'form submission from another origin refused',
    ],
    [
      'Origin null without fetch metadata',
      { origin: 'null' },
      token,
      'form submission from another origin refused',
    ],
  ])('%s', (_, headers, submitted, expected) => {
    expect(reasonOf(headers, submitted)).toBe(expected);
  });

  it('tokens differ per session and per key', () => {
    expect(csrf.token({ ...session, sid: 'sid-2' })).not.toBe(token);
    expect(new Csrf(`${KEY}x`, PUBLIC_URL).token(session)).not.toBe(token);
  });
});

describe('set-up lines', () => {
  const input = {
    publicUrl: PUBLIC_URL,
    user: 'alice',
    token: 'mgp_abc.def',
    privatePatterns: ['corp.example/*', 'git.corp/x', 'corp.example/*'],
  };

  it('netrc: the host for go ≤1.23 and host:port for go ≥1.24 when the URL has a port', () => {
    expect(netrcLines(input).map((l) => l.text)).toEqual([
      'machine goproxy.test login alice password mgp_abc.def',
      'machine goproxy.test:8443 login alice password mgp_abc.def',
    ]);
    expect(netrcLines({ ...input, publicUrl: 'https://goproxy.test' }).map((l) => l.text)).toEqual([
      'machine goproxy.test login alice password mgp_abc.def',
    ]);
    expect(netrcLines({ ...input, user: 'on call' })[0]?.text).toBe(
      'machine goproxy.test login token password mgp_abc.def',
    );
  });

  it('environment: GOPROXY, and the private patterns for GONOSUMDB and GOPRIVATE (quoted for the shell)', () => {
    expect(envLines(input).map((l) => l.text)).toEqual([
      'export GOPROXY=https://goproxy.test:8443',
      "export GONOSUMDB='corp.example/*,git.corp/x'",
      "export GOPRIVATE='corp.example/*,git.corp/x'",
      'export GONOPROXY=none',
    ]);
    expect(envLines({ ...input, privatePatterns: [] }).map((l) => l.text)).toEqual([
      'export GOPROXY=https://goproxy.test:8443',
    ]);
    expect(caLine().text).toBe('export SSL_CERT_FILE=/path/to/ca-bundle.pem');
  });
});

describe('IdP errors', () => {
  it('the IdP refusing is sso.login_failed with its one-line, clipped reason', () => {
    const refused = new oidc.AuthorizationResponseError(
      'authorization response from the server is an error',
      {
        cause: new URLSearchParams({
          error: 'access_denied',
          error_description: `no\nway ${'x'.repeat(200)}`,
        }),
      },
    );
    const e = fromOidcError(refused);
    expect(e.code).toBe('sso.login_failed');
    expect(e.message).toMatch(/^the identity provider refused the login: access_denied \(no way x+…$/);
    expect(e.message.length).toBeLessThan(180);
  });

  it('an unreachable or timed-out IdP is sso.unavailable; anything else internal', () => {
    expect(fromOidcError(new TypeError('fetch failed')).code).toBe('sso.unavailable');
    expect(fromOidcError(new DOMException('timed out', 'TimeoutError')).code).toBe('sso.unavailable');
    expect(fromOidcError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'internal error' });
  });
});
