/**
 * Routes (policies/routes.ts), table-driven: the first matching route wins,
 * unmatched modules take the default upstream, the credential is picked by
 * subject (first matching entry), and a private route takes its modules and
 * the parent paths go probes, whatever routes come before it in the file.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../policies/load.ts';
import type { RouteChoice, RouteTable } from '../policies/routes.ts';

/**
 * `broad` comes before the private `corp` route and would match its paths
 * (`*.example` matches `corp.example`): private routes must still win.
 * `acme` comes before the narrower `acme-tools`, which it shadows;
 * `x-tools` comes before the broader `x`, so both are reachable.
 */
const POLICY = `default: allow
rules: []
routes:
  - name: acme
    modules: ["github.com/acme"]
    upstream: athens-acme
    credentials:
      - subjects: ["group:team-b"]
        credential: athens-team-b
  - name: acme-tools
    modules: ["github.com/acme/tools"]
    upstream: athens-tools
  - name: x-tools
    modules: ["golang.org/x/tools"]
    upstream: athens-tools
  - name: x
    modules: ["golang.org/x"]
    upstream: athens-x
  - name: broad
    modules: ["*.example"]
    upstream: athens-public
  - name: corp
    modules: ["corp.example/*", "git.corp.example/team-b/*"]
    upstream: artifactory
    private: true
    credentials:
      - subjects: ["group:team-a"]
        credential: artifactory-team-a
      - subjects: ["user:alice"]
        credential: artifactory-alice
      - subjects: ["*"]
        credential: artifactory-read-only
`;

function load(text: string): RouteTable {
  const r = parsePolicy('policy.yaml', text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy.routes;
}

const routes = load(POLICY);
const anyone = { user: 'erin', groups: [] };

/** `route → upstream (credential)`, `private` marked, or `default` when no route matched. */
function short(c: RouteChoice): string {
  if (c.route === undefined) return 'default';
  return `${c.route} → ${c.upstream}${c.private ? ' private' : ''}${c.credential ? ` (${c.credential})` : ''}`;
}

describe('which route a module takes', () => {
  it.each<[string, string, string]>([
    [
      'the first matching route wins over a narrower one below it',
      'github.com/acme/tools',
      'acme → athens-acme',
    ],
    ['…for paths below it too', 'github.com/acme/tools/cmd/v2', 'acme → athens-acme'],
    ['a narrower route listed first wins', 'golang.org/x/tools/gopls', 'x-tools → athens-tools'],
    ['the broader route takes the rest', 'golang.org/x/net', 'x → athens-x'],
    ['a glob element matches one path element', 'www.example/lib', 'broad → athens-public'],
    ['an element is not a prefix match', 'golang.org/xy', 'default'],
    ['a pattern matches whole elements only', 'github.com/acmeco/x', 'default'],
    ['no route: the default upstream', 'example.com/hello', 'default'],
    [
      'a private route wins over a broader public route listed first',
      'corp.example/team-a/secret',
      'corp → artifactory private (artifactory-read-only)',
    ],
    ['corp.example.com is not corp.example', 'corp.example.com/x', 'default'],
  ])('%s: %s', (_, module, expected) => {
    expect(short(routes.choose(anyone, module))).toBe(expected);
  });

  it('the default route carries nothing: no route name, upstream, credential, not private', () => {
    expect(routes.choose(anyone, 'example.com/hello')).toEqual({
      route: undefined,
      upstream: undefined,
      private: false,
      credential: undefined,
    });
  });

  it('a policy without routes sends everything to the default upstream', () => {
    const none = load('default: allow\nrules: []\n');
    for (const module of ['corp.example/x', 'github.com/acme/tools', 'golang.org/x/net'])
      expect(short(none.choose(anyone, module))).toBe('default');
    expect(none.privatePattern('corp.example/x')).toBeUndefined();
  });
});

describe('which credential a subject gets', () => {
  it.each<[string, { user: string; groups: string[] }, string, string | undefined]>([
    ['a team-a member', { user: 'bob', groups: ['team-a'] }, 'corp.example/x', 'artifactory-team-a'],
    [
      'the first matching entry wins (alice in team-a)',
      { user: 'alice', groups: ['developers', 'team-a'] },
      'corp.example/x',
      'artifactory-team-a',
    ],
    ['a user entry', { user: 'alice', groups: [] }, 'corp.example/x', 'artifactory-alice'],
    [
      'anyone else gets the `*` entry',
      { user: 'erin', groups: ['team-b'] },
      'corp.example/x',
      'artifactory-read-only',
    ],
    [
      'a group entry on a public route',
      { user: 'bob', groups: ['team-b'] },
      'github.com/acme/x',
      'athens-team-b',
    ],
    [
      'no matching entry: the upstream’s own credential',
      { user: 'erin', groups: [] },
      'github.com/acme/x',
      undefined,
    ],
    ['a route without credentials', { user: 'bob', groups: ['team-a'] }, 'golang.org/x/net', undefined],
    ['the default upstream', { user: 'bob', groups: ['team-a'] }, 'example.com/hello', undefined],
  ])('%s', (_, subject, module, credential) => {
    expect(routes.choose(subject, module).credential).toBe(credential);
  });
});

describe('private routes', () => {
  /** Every path of a private module, and every parent path `go get` probes for one. */
  const privatePaths: [string, string][] = [
    ['corp.example', 'corp.example/*'],
    ['corp.example/team-a', 'corp.example/*'],
    ['corp.example/team-a/secret', 'corp.example/*'],
    ['corp.example/team-a/secret/v2', 'corp.example/*'],
    ['git.corp.example', 'git.corp.example/team-b/*'],
    ['git.corp.example/team-b', 'git.corp.example/team-b/*'],
    ['git.corp.example/team-b/tool', 'git.corp.example/team-b/*'],
  ];
  const subjects = [
    anyone,
    { user: 'alice', groups: ['team-a'] },
    { user: 'bob', groups: ['team-b', 'developers'] },
  ];

  it.each(privatePaths)('%s never reaches another upstream, whoever asks', (module, glob) => {
    for (const subject of subjects) {
      const choice = routes.choose(subject, module);
      expect(choice).toMatchObject({ route: 'corp', upstream: 'artifactory', private: true });
    }
    expect(routes.privatePattern(module)).toBe(glob);
  });

  it.each([
    'git.corp.example/team-a/tool', // a sibling of the private subtree: public
    'corp.example.com/x',
    'example/corp.example',
    'github.com/acme',
  ])('%s is not private', (module) => {
    expect(routes.privatePattern(module)).toBeUndefined();
    expect(routes.choose(anyone, module).private).toBe(false);
  });

  it('a private route listed last still wins over every public route', () => {
    const first = load(
      POLICY.replace(
        'routes:\n',
        'routes:\n  - { name: everything, modules: ["*"], upstream: athens-all }\n',
      ),
    );
    expect(short(first.choose(anyone, 'corp.example'))).toBe(
      'corp → artifactory private (artifactory-read-only)',
    );
    expect(short(first.choose(anyone, 'corp.example/team-a/secret'))).toBe(
      'corp → artifactory private (artifactory-read-only)',
    );
    expect(short(first.choose(anyone, 'github.com/acme/tools'))).toBe('everything → athens-all');
  });

  it('lists every route’s upstream and credentials for the gateway.yaml cross-check', () => {
    expect(routes.references.find((r) => r.route === 'corp')).toMatchObject({
      route: 'corp',
      upstream: 'artifactory',
      credentials: ['artifactory-team-a', 'artifactory-alice', 'artifactory-read-only'],
    });
  });
});
