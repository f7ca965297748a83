import fc from 'fast-check';

const num = fc.constantFrom('0', '1', '2', '10', '23', '01', '00', '123', '');
const ident = fc.constantFrom(
  'alpha',
  'beta',
  'rc',
  '0',
  '1',
  '11',
  '01',
  'x-y',
  '',
  'Beta',
  'pre',
  '-',
  'Z',
);

/**
 * Version strings for differential tests against Go's x/mod: semver-shaped
 * ones with odd numbers and identifiers (valid and not), pseudo-versions, and
 * a few non-canonical or non-semver strings.
 */
export const versionArbitrary = fc.oneof(
  fc
    .tuple(
      num,
      fc.option(num),
      fc.option(num),
      fc.array(ident, { maxLength: 3 }),
      fc.array(ident, { maxLength: 2 }),
    )
    .map(([ma, mi, pa, pre, bld]) => {
      let v = `v${ma}`;
      if (mi !== null) v += `.${mi}`;
      if (mi !== null && pa !== null) v += `.${pa}`;
      if (pre.length > 0) v += `-${pre.join('.')}`;
      if (bld.length > 0) v += `+${bld.join('.')}`;
      return v;
    }),
  fc
    .tuple(
      fc.constantFrom('v0', 'v1', 'v2'),
      fc.constantFrom('.0.0-', '.2.4-0.', '.23.1-0.', '.3.0-pre.0.', '.0.0-rc.1.0.'),
      fc.stringMatching(/^20[0-9]{12}$/),
      fc.stringMatching(/^[0-9a-f]{12}$/),
    )
    .map(([m, mid, ts, h]) => `${m}${mid}${ts}-${h}`),
  fc.constantFrom(
    'v1.0.0',
    'v2.0.0+incompatible',
    'v3.1.4+incompatible',
    'master',
    'latest',
    'Release',
    '1.2.3',
    'v1.0.0-RC1',
    '',
  ),
);

/**
 * Go versions as toolchain names use them (`1.21rc2`, `1.21.0`, `2.21`), valid
 * and not, each valid inside a semver pre-release (`v0.0.1-go<it>.linux-amd64`).
 */
export const goVersionArbitrary = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('1', '2'),
      fc.constantFrom('0', '1', '2', '9', '10', '19', '20', '21', '22', '23', '99', '100'),
      fc.oneof(
        fc.constant(''),
        fc.constantFrom('.0', '.1', '.2', '.10'),
        fc
          .tuple(fc.constantFrom('rc', 'beta', 'alpha'), fc.constantFrom('', '1', '2', '10'))
          .map(([k, n]) => k + n),
      ),
    )
    .map(([major, minor, rest]) => `${major}.${minor}${rest}`),
  fc.constantFrom('1', '2', '1.21.0rc1', '1.21RC1', 'x', '1.21.x', '1.2rc-1'),
);
