import type { EmbeddedDefaults } from './embedded.ts';

/**
 * The start-up banner for embedded defaults: the exact lines to paste so
 * `go mod download` works at once. go ≤1.23 matches a netrc machine by host,
 * go ≥1.24 by host:port, so both lines are printed.
 */
export function embeddedBanner(url: string, d: EmbeddedDefaults): string {
  const hostPort = new URL(url).host;
  const host = new URL(url).hostname;
  return [
    `modgate is listening on ${url} (embedded defaults, state in ${d.stateDir})`,
    `config: ${d.configPath}   audit log: ${d.stateDir}/audit.log`,
    `policy: ${d.policyPath} (edits apply live; check them with: modgate policy check ${d.policyPath})`,
    '',
    'Point the go command at it:',
    `  export GOPROXY=${url}`,
    `  export SSL_CERT_FILE=${d.certPath}`,
    '  export GONOSUMDB=example.com,github.com/Acme',
    '  touch ~/.netrc && chmod 600 ~/.netrc',
    `  echo 'machine ${host} login ${d.demoUser} password ${d.demoPassword}' >> ~/.netrc`,
    `  echo 'machine ${hostPort} login ${d.demoUser} password ${d.demoPassword}' >> ~/.netrc`,
    '  go mod download -json example.com/hello@v1.1.0',
    '',
  ].join('\n');
}
