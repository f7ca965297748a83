/**
 * Table tests for the GOPROXY request-path parser: the good shapes go sends,
 * the bad paths an attacker or a broken client sends (each rejected with its
 * own reason), the not-a-GOPROXY-endpoint paths, and property tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, isModgateError } from '../core/errors.ts';
import {
  type GoproxyRequest,
  MAX_REQUEST_PATH_BYTES,
  parseGoproxyPath,
  upstreamPath,
} from '../gateway/protocol/goproxy-path.ts';

/** The ModgateError `parseGoproxyPath` throws for `path`; fails the test if it returns or throws anything else. */
function rejection(path: string): { code: ErrorCode; message: string } {
  try {
    parseGoproxyPath(path);
  } catch (err) {
    if (isModgateError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  return expect.unreachable(`parseGoproxyPath(${JSON.stringify(path)}) succeeded`);
}

const PSEUDO = 'v0.0.0-20191109021931-daa7c04131f5';

describe('good paths', () => {
  const cases: [string, GoproxyRequest, string][] = [
    [
      '/github.com/%21acme/%21tool/@v/list',
      { kind: 'list', module: 'github.com/Acme/Tool', escapedModule: 'github.com/!acme/!tool' },
      '/github.com/!acme/!tool/@v/list',
    ],
    [
      '/github.com/!acme/!tool/@v/list',
      { kind: 'list', module: 'github.com/Acme/Tool', escapedModule: 'github.com/!acme/!tool' },
      '/github.com/!acme/!tool/@v/list',
    ],
    [
      '/github.com/%21acme/tool/@latest',
      { kind: 'latest', module: 'github.com/Acme/tool', escapedModule: 'github.com/!acme/tool' },
      '/github.com/!acme/tool/@latest',
    ],
    [
      '/example.com/m/v2/@v/v2.1.0.zip',
      {
        kind: 'zip',
        module: 'example.com/m/v2',
        escapedModule: 'example.com/m/v2',
        version: 'v2.1.0',
        escapedVersion: 'v2.1.0',
      },
      '/example.com/m/v2/@v/v2.1.0.zip',
    ],
    [
      '/example.com/m/@v/v3.0.0+incompatible.mod',
      {
        kind: 'mod',
        module: 'example.com/m',
        escapedModule: 'example.com/m',
        version: 'v3.0.0+incompatible',
        escapedVersion: 'v3.0.0+incompatible',
      },
      '/example.com/m/@v/v3.0.0+incompatible.mod',
    ],
    [
      `/golang.org/x/net/@v/${PSEUDO}.zip`,
      {
        kind: 'zip',
        module: 'golang.org/x/net',
        escapedModule: 'golang.org/x/net',
        version: PSEUDO,
        escapedVersion: PSEUDO,
      },
      `/golang.org/x/net/@v/${PSEUDO}.zip`,
    ],
    [
      '/gopkg.in/yaml.v3/@v/v3.0.1.info',
      {
        kind: 'info',
        module: 'gopkg.in/yaml.v3',
        escapedModule: 'gopkg.in/yaml.v3',
        version: 'v3.0.1',
        escapedVersion: 'v3.0.1',
      },
      '/gopkg.in/yaml.v3/@v/v3.0.1.info',
    ],
    [
      '/example.com/m/@v/%21main.info',
      {
        kind: 'info',
        module: 'example.com/m',
        escapedModule: 'example.com/m',
        version: 'Main',
        escapedVersion: '!main',
      },
      '/example.com/m/@v/!main.info',
    ],
    [
      '/example.com/m/@v/v1.2.3-%21r%21c1.info',
      {
        kind: 'info',
        module: 'example.com/m',
        escapedModule: 'example.com/m',
        version: 'v1.2.3-RC1',
        escapedVersion: 'v1.2.3-!r!c1',
      },
      '/example.com/m/@v/v1.2.3-!r!c1.info',
    ],
    [
      '/example.com/m/@v/a%25b%20c.info',
      {
        kind: 'info',
        module: 'example.com/m',
        escapedModule: 'example.com/m',
        version: 'a%b c',
        escapedVersion: 'a%b c',
      },
      '/example.com/m/@v/a%25b%20c.info',
    ],
    [
      '/sumdb/sum.golang.org/supported',
      { kind: 'sumdb', name: 'sum.golang.org', rest: 'supported' },
      '/sumdb/sum.golang.org/supported',
    ],
    [
      '/sumdb/sum.golang.org/latest',
      { kind: 'sumdb', name: 'sum.golang.org', rest: 'latest' },
      '/sumdb/sum.golang.org/latest',
    ],
    [
      '/sumdb/sum.golang.org/lookup/github.com/!acme/!tool@v1.0.0',
      {
        kind: 'sumdb',
        name: 'sum.golang.org',
        rest: 'lookup/github.com/!acme/!tool@v1.0.0',
        lookup: { module: 'github.com/Acme/Tool', version: 'v1.0.0' },
      },
      '/sumdb/sum.golang.org/lookup/github.com/!acme/!tool@v1.0.0',
    ],
    [
      '/sumdb/sum.golang.org/lookup/github.com/%21acme/tool@v2.0.0+incompatible',
      {
        kind: 'sumdb',
        name: 'sum.golang.org',
        rest: 'lookup/github.com/!acme/tool@v2.0.0+incompatible',
        lookup: { module: 'github.com/Acme/tool', version: 'v2.0.0+incompatible' },
      },
      '/sumdb/sum.golang.org/lookup/github.com/!acme/tool@v2.0.0+incompatible',
    ],
    [
      '/sumdb/sum.golang.org/tile/8/0/x001/234.p/5',
      { kind: 'sumdb', name: 'sum.golang.org', rest: 'tile/8/0/x001/234.p/5' },
      '/sumdb/sum.golang.org/tile/8/0/x001/234.p/5',
    ],
    [
      '/sumdb/sum.golang.org/tile/8/data/000',
      { kind: 'sumdb', name: 'sum.golang.org', rest: 'tile/8/data/000' },
      '/sumdb/sum.golang.org/tile/8/data/000',
    ],
  ];
  it.each(cases)('%s', (path, want, upstream) => {
    const got = parseGoproxyPath(path);
    expect(got).toEqual(want);
    expect(upstreamPath(got)).toBe(upstream);
  });
});

describe('bad paths are request.invalid_path with a reason', () => {
  const long = `/example.com/${'a'.repeat(2048)}/@v/list`;
  it.each([
    [
      '.. element',
      '/example.com/m/../x/@v/list',
      'invalid escaped module path "example.com/m/../x": malformed module path "example.com/m/../x": invalid path element ".."',
    ],
    [
      '%2e%2e element',
      '/example.com/%2e%2e/@v/list',
      'invalid escaped module path "example.com/..": malformed module path "example.com/..": invalid path element ".."',
    ],
    [
      '%2e%2e module',
      '/%2e%2e/@v/list',
      'invalid escaped module path "..": malformed module path "..": invalid path element ".."',
    ],
    [
      '// in module',
      '/example.com//m/@v/list',
      'invalid escaped module path "example.com//m": malformed module path "example.com//m": double slash',
    ],
    [
      'leading //',
      '//example.com/m/@v/list',
      'invalid escaped module path "/example.com/m": malformed module path "/example.com/m": empty path element',
    ],
    [
      'bare uppercase',
      '/github.com/Acme/tool/@v/list',
      `invalid escaped module path "github.com/Acme/tool": unescaped uppercase 'A'`,
    ],
    [
      'uppercase host',
      '/Github.com/x/@v/list',
      `invalid escaped module path "Github.com/x": unescaped uppercase 'G'`,
    ],
    [
      '!A escape',
      '/github.com/%21Acme/@v/list',
      `invalid escaped module path "github.com/!Acme": "!" followed by 'A', not a lowercase letter`,
    ],
    [
      '!! escape',
      '/github.com/!!acme/@v/list',
      `invalid escaped module path "github.com/!!acme": "!" followed by '!', not a lowercase letter`,
    ],
    [
      'trailing !',
      '/github.com/acme!/@latest',
      'invalid escaped module path "github.com/acme!": trailing "!"',
    ],
    ['NUL', '/example.com/m%00/@v/list', 'request path contains a control character'],
    ['newline', '/example.com/m%0a/@v/list', 'request path contains a control character'],
    [
      'raw space',
      '/example.com/m x/@v/list',
      'request path contains a character that must be percent-encoded',
    ],
    ['bad % escape', '/example.com/m%zz/@v/list', 'malformed percent-encoding in request path'],
    ['truncated % escape', '/example.com/m/@v/list%2', 'malformed percent-encoding in request path'],
    ['invalid UTF-8', '/example.com/m%ff/@v/list', 'request path is not valid UTF-8 after percent-decoding'],
    ['2 KB path', long, `request path longer than ${MAX_REQUEST_PATH_BYTES} bytes`],
    [
      'no dot in first element',
      '/example/m/@v/list',
      'invalid escaped module path "example/m": malformed module path "example/m": missing dot in first path element',
    ],
    [
      '/v1 suffix',
      '/example.com/m/v1/@v/list',
      'invalid escaped module path "example.com/m/v1": malformed module path "example.com/m/v1": invalid version',
    ],
    ['empty module', '/@v/list', 'invalid escaped module path "": malformed module path "": empty string'],
    [
      '.mod v1.0',
      '/example.com/m/@v/v1.0.mod',
      'version "v1.0" invalid: not a canonical version (want "v1.0.0")',
    ],
    [
      '.zip v1.0',
      '/example.com/m/@v/v1.0.zip',
      'version "v1.0" invalid: not a canonical version (want "v1.0.0")',
    ],
    [
      '.zip build metadata',
      '/example.com/m/@v/v1.0.0+meta.zip',
      'version "v1.0.0+meta" invalid: not a canonical version (want "v1.0.0")',
    ],
    ['.mod v1.0.0!', '/example.com/m/@v/v1.0.0!.mod', 'invalid escaped version "v1.0.0!": trailing "!"'],
    ['.zip v1.0.0%21', '/example.com/m/@v/v1.0.0%21.zip', 'invalid escaped version "v1.0.0!": trailing "!"'],
    ['.info v1.0.0!', '/example.com/m/@v/v1.0.0!.info', 'invalid escaped version "v1.0.0!": trailing "!"'],
    ['.mod empty version', '/example.com/m/@v/.mod', 'empty version before ".mod"'],
    ['.zip empty version', '/example.com/m/@v/.zip', 'empty version before ".zip"'],
    ['.zip branch name', '/example.com/m/@v/master.zip', 'version "master" invalid: not a semantic version'],
    [
      '.info version with /',
      '/example.com/m/@v/feature/x.info',
      `invalid escaped version "feature/x": invalid char '/'`,
    ],
    [
      '.info Windows name',
      '/example.com/m/@v/con.info',
      'invalid escaped version "con": "con" disallowed as path element component on Windows',
    ],
    ['sumdb bad name', '/sumdb/Sum.golang.org/supported', 'invalid checksum database name "Sum.golang.org"'],
    ['sumdb name without dot', '/sumdb/localhost/supported', 'invalid checksum database name "localhost"'],
    ['sumdb empty name', '/sumdb//supported', 'invalid checksum database name ""'],
    [
      'sumdb lookup without @',
      '/sumdb/sum.golang.org/lookup/github.com/x',
      'malformed checksum database lookup "github.com/x": want module@version',
    ],
    [
      'sumdb lookup two @',
      '/sumdb/sum.golang.org/lookup/a.com/x@v1.0.0@v1.0.0',
      'malformed checksum database lookup "a.com/x@v1.0.0@v1.0.0": want module@version',
    ],
    [
      'sumdb lookup uppercase',
      '/sumdb/sum.golang.org/lookup/github.com/Acme@v1.0.0',
      `invalid escaped module path "github.com/Acme": unescaped uppercase 'A'`,
    ],
    [
      'sumdb lookup non-canonical',
      '/sumdb/sum.golang.org/lookup/a.com/x@v1.0',
      'version "v1.0" invalid: not a canonical version (want "v1.0.0")',
    ],
    ['sumdb tile non-canonical', '/sumdb/sum.golang.org/tile/8/0/1', 'malformed tile path "tile/8/0/1"'],
    [
      'sumdb tile too wide',
      '/sumdb/sum.golang.org/tile/8/0/001.p/256',
      'malformed tile path "tile/8/0/001.p/256"',
    ],
    ['sumdb tile height 31', '/sumdb/sum.golang.org/tile/31/0/000', 'malformed tile path "tile/31/0/000"'],
    ['sumdb tile ..', '/sumdb/sum.golang.org/tile/8/0/../000', 'malformed tile path "tile/8/0/../000"'],
  ])('%s', (_name, path, message) => {
    expect(rejection(path)).toEqual({ code: 'request.invalid_path', message });
  });
});

describe('paths that are no GOPROXY endpoint are request.not_found', () => {
  it.each([
    '/',
    '',
    '/favicon.ico',
    '/foo/@v/',
    '/x.com/@v/v1.0.0.tar',
    '/x.com/m/@v/v1.0.0.zip/extra',
    '/x.com/m/@v',
    '/x.com/m/@v/list/',
    '/x.com/m/@latest/',
    '/x.com/m/@foo',
    '/sumdb',
    '/sumdb/sum.golang.org',
    '/sumdb/sum.golang.org/',
    '/sumdb/sum.golang.org/lookup',
    '/sumdb/sum.golang.org/other',
    'example.com/m/@v/list',
  ])('%j', (path) => {
    expect(rejection(path)).toEqual({
      code: 'request.not_found',
      message: `no such GOPROXY endpoint: ${path}`,
    });
  });
});

describe('properties', () => {
  const options = { numRuns: 3000 };
  const pathish = fc.string({
    unit: fc.constantFrom(
      ...'/@vV.!%2fe0aZ-_~+:'.split(''),
      '%21',
      '%2e',
      '%00',
      '%ff',
      '/@v/',
      '/@latest',
      '.info',
      '.mod',
      '.zip',
      'list',
      '/sumdb/',
      'sum.golang.org/',
      'lookup/',
      'tile/8/0/',
      'example.com/',
      'v1.0.0',
      'é',
    ),
    maxLength: 30,
  });
  const anyPath = fc.oneof(
    pathish,
    fc.string({ unit: 'binary', maxLength: 60 }),
    pathish.map((s) => `/${s}`),
  );

  it('throws nothing but request.invalid_path / request.not_found', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        try {
          parseGoproxyPath(path);
        } catch (err) {
          expect(
            isModgateError(err, 'request.invalid_path') || isModgateError(err, 'request.not_found'),
          ).toBe(true);
          expect((err as Error).message).not.toMatch(/[\n\r]/);
        }
      }),
      options,
    );
  });

  it('the upstream path of a parsed request parses to the same request', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        let req: GoproxyRequest;
        try {
          req = parseGoproxyPath(path);
        } catch {
          return;
        }
        expect(parseGoproxyPath(upstreamPath(req))).toEqual(req);
      }),
      options,
    );
  });

  it('module and version requests round-trip through upstreamPath', () => {
    const elem = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._~-]{0,6}[A-Za-z0-9])?$/);
    const module = fc
      .tuple(
        fc.constantFrom('github.com', 'example.com', 'go.corp.io'),
        fc.array(elem, { minLength: 1, maxLength: 3 }),
      )
      .map(([host, elems]) => [host, ...elems].join('/'))
      .filter(
        (m) =>
          !/\/v[0-9.]*$/.test(m) &&
          !/(^|\/)(con|prn|aux|nul|com[1-9]|lpt[1-9])(\.|\/|$)/i.test(m) &&
          !/~[0-9]+(\.|\/|$)/.test(m),
      );
    const version = fc.constantFrom('v1.0.0', 'v2.3.4-RC.1', 'v3.0.0+incompatible', PSEUDO);
    fc.assert(
      fc.property(
        module,
        version,
        fc.constantFrom('info', 'mod', 'zip') as fc.Arbitrary<'info' | 'mod' | 'zip'>,
        (m, v, kind) => {
          const escapedModule = m.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
          const escapedVersion = v.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
          const wire = `/${escapedModule.replaceAll('!', '%21')}/@v/${escapedVersion.replaceAll('!', '%21')}.${kind}`;
          const req = parseGoproxyPath(wire);
          expect(req).toEqual({ kind, module: m, escapedModule, version: v, escapedVersion });
          expect(upstreamPath(req)).toBe(`/${escapedModule}/@v/${escapedVersion}.${kind}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});
