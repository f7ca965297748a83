/**
 * The lines a developer copies to point the go command at modgate with a
 * personal token (docs/clients.md): go sends netrc
 * credentials only over https, pre-emptively as Basic; go ≤1.23 matches a
 * netrc `machine` on the host alone, go ≥1.24 on host:port, so a URL with a
 * port gets both lines.
 */

/** One line to copy, with what it is for. */
export interface SetupLine {
  /** Stable id (element id on the page). */
  readonly id: string;
  readonly text: string;
  readonly note: string;
}

export interface SetupInput {
  /** `listen.public_url`, e.g. `https://goproxy.corp:8443`. */
  readonly publicUrl: string;
  readonly user: string;
  readonly token: string;
  /** Module patterns of the policy's private routes, in policy order. */
  readonly privatePatterns: readonly string[];
}

/** Netrc login used when the user name cannot be one netrc token (whitespace); modgate reads only the password. */
const NETRC_FALLBACK_LOGIN = 'token';
/** Shell values that need no quoting. */
const SHELL_PLAIN = /^[A-Za-z0-9._/:,@=+-]*$/;

/** The `~/.netrc` lines: host alone, and host:port when the public URL has a port. */
export function netrcLines(input: SetupInput): SetupLine[] {
  const url = new URL(input.publicUrl);
  const login = /^\S+$/.test(input.user) ? input.user : NETRC_FALLBACK_LOGIN;
  const entry = (machine: string) => `machine ${machine} login ${login} password ${input.token}`;
  const lines: SetupLine[] = [
    { id: 'netrc-host', text: entry(url.hostname), note: 'go 1.23 and older match the host name' },
  ];
  if (url.port !== '') {
    lines.push({ id: 'netrc-host-port', text: entry(url.host), note: 'go 1.24 and newer match host:port' });
  }
  return lines;
}

/** go 1.24 and newer: no token to copy; `modgate login` keeps a sign-in and GOAUTH asks `modgate credential` for tokens. */
export function goauthLines(publicUrl: string): SetupLine[] {
  return [
    {
      id: 'goauth-login',
      text: `modgate login ${publicUrl}`,
      note: 'signs you in here through your identity provider and keeps the sign-in (mode 0600) for the next line',
    },
    {
      id: 'goauth',
      text: "go env -w GOAUTH='modgate credential'",
      note: 'go 1.24 and newer ask modgate credential for a short-lived token and get a fresh one when it expires',
    },
  ];
}

/** The environment: GOPROXY, and for private module paths GOPRIVATE, GONOPROXY and GONOSUMDB. */
export function envLines(input: SetupInput): SetupLine[] {
  const lines: SetupLine[] = [
    {
      id: 'goproxy',
      text: exportLine('GOPROXY', input.publicUrl),
      note: 'every module download goes through modgate',
    },
  ];
  if (input.privatePatterns.length > 0) {
    const patterns = [...new Set(input.privatePatterns)].join(',');
    lines.push(
      {
        id: 'gonosumdb',
        text: exportLine('GONOSUMDB', patterns),
        note: 'private module paths are never looked up in the public checksum database',
      },
      {
        id: 'goprivate',
        text: exportLine('GOPRIVATE', patterns),
        note: 'marks them private for the go command',
      },
      {
        id: 'gonoproxy',
        text: exportLine('GONOPROXY', 'none'),
        note: 'needed with GOPRIVATE: private modules still come through modgate, not straight from version control',
      },
    );
  }
  return lines;
}

/** `SSL_CERT_FILE`, for machines that do not trust the CA of modgate's certificate. */
export function caLine(): SetupLine {
  return {
    id: 'ssl-cert-file',
    text: exportLine('SSL_CERT_FILE', '/path/to/ca-bundle.pem'),
    note: 'only if your system does not trust the certificate authority that signed modgate’s certificate',
  };
}

function exportLine(name: string, value: string): string {
  return `export ${name}=${SHELL_PLAIN.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`}`;
}
