import { MAX_TOKEN_NAME_CHARS } from '../../../../auth/pat/token-registry.ts';
import { html, type SafeHtml } from '../html.ts';
import type { SetupLine } from '../setup-lines.ts';
import { csrfField, type Frame, layout, PAGE_PATHS } from './layout.ts';

/** A policy route as the set-up page shows it. */
export interface RouteView {
  readonly name: string;
  readonly modules: readonly string[];
  readonly private: boolean;
}

/** A token just minted, with the lines that use it. Shown once, never stored. */
export interface MintedView {
  readonly name: string;
  readonly expiresAtMs: number;
  readonly netrc: readonly SetupLine[];
  readonly env: readonly SetupLine[];
  readonly ca: SetupLine;
}

export interface SetupView {
  readonly user: string;
  readonly groups: readonly string[];
  readonly routes: readonly RouteView[];
  readonly csrf: string;
  /** go 1.24 and newer: the GOAUTH set-up, which needs no token from this page. */
  readonly goauth: readonly SetupLine[];
  readonly minted?: MintedView | undefined;
}

/** "Set me up": who you are, where modules come from, and a token with the lines to use it. */
export function setupPage(frame: Frame, view: SetupView): SafeHtml {
  return layout(
    frame,
    html`<section aria-labelledby="who">
<h2 id="who">Who you are</h2>
<dl>
<dt>User</dt><dd id="user">${view.user}</dd>
<dt>Groups (from the directory)</dt>
<dd id="groups">${view.groups.length === 0 ? 'none' : view.groups.map((g) => html`<span class="tag">${g}</span> `)}</dd>
</dl>
</section>
${routesSection(view.routes)}
${goauthSection(view.goauth)}
${view.minted ? mintedSection(view.minted) : mintForm(view.csrf)}`,
  );
}

function routesSection(routes: readonly RouteView[]): SafeHtml {
  if (routes.length === 0) {
    return html`<section aria-labelledby="routes"><h2 id="routes">Routes</h2>
<p>The policy names no routes: every module comes from the default upstream, as the policy’s rules allow.</p></section>`;
  }
  return html`<section aria-labelledby="routes">
<h2 id="routes">Routes</h2>
<p>Where modules come from. The policy’s rules decide which modules and versions you may have.</p>
<table>
<caption class="note">Routes of the policy in force</caption>
<thead><tr><th scope="col">Route</th><th scope="col">Module patterns</th><th scope="col">Private</th></tr></thead>
<tbody>
${routes.map(
  (
    r,
  ) => html`<tr><td>${r.name}</td><td>${r.modules.map((m, i) => html`${i > 0 ? ', ' : ''}<code>${m}</code>`)}</td><td>${r.private ? 'yes' : 'no'}</td></tr>
`,
)}</tbody>
</table>
</section>`;
}

function goauthSection(lines: readonly SetupLine[]): SafeHtml {
  return html`<section aria-labelledby="goauth-setup">
<h2 id="goauth-setup">go 1.24 and newer: GOAUTH</h2>
<p>No token to copy and no password in a file: sign in once from a terminal, and go asks
<code>modgate credential</code> for a short-lived token whenever it needs one.</p>
${lines.map(copyLine)}
</section>`;
}

function mintForm(csrf: string): SafeHtml {
  return html`<section aria-labelledby="token">
<h2 id="token">go 1.23 and older: a token in ~/.netrc</h2>
<p>Older go (and tools that read only <code>~/.netrc</code>) sign in to modgate with a personal token in <code>~/.netrc</code>.
Create one to see the lines to copy; the token is shown only once.</p>
<form method="post" action="${PAGE_PATHS.mint}">
${csrfField(csrf)}
<p><label for="token-name">Token name (optional)</label>
<input type="text" id="token-name" name="name" maxlength="${MAX_TOKEN_NAME_CHARS}" placeholder="laptop" autocomplete="off"></p>
<p><button type="submit" id="mint">Create a token and show my set-up</button></p>
</form>
</section>`;
}

function mintedSection(minted: MintedView): SafeHtml {
  return html`<section aria-labelledby="token">
<h2 id="token">Your new token: ${minted.name}</h2>
<p class="warning" role="alert">This token is shown only now. Copy the lines below before you leave this page.
It expires on ${dateTime(minted.expiresAtMs)}; revoke it any time under <a href="${PAGE_PATHS.tokens}">My tokens</a>.</p>
<h3>1. Add to <code>~/.netrc</code></h3>
<p class="note">Create the file if needed and keep it private: <code>chmod 600 ~/.netrc</code>.</p>
${minted.netrc.map(copyLine)}
<h3>2. Set the go environment</h3>
<p class="note">Put these in your shell profile, or use <code>go env -w NAME=value</code> for the GO variables.</p>
${minted.env.map(copyLine)}
<h3>3. If modgate’s certificate is not trusted</h3>
<p>go checks modgate’s certificate against the system’s certificate store. If your company’s
certificate authority is not installed there, ask your platform team for the CA bundle (PEM), save it,
and point the go command at it. The file then replaces the system store for go, so it should hold the
usual public roots too if go fetches from anywhere else.</p>
${copyLine(minted.ca)}
</section>`;
}

/** One line to copy: selectable text, plus a button that the page script shows. */
export function copyLine(line: SetupLine): SafeHtml {
  return html`<div class="line">
<pre><code id="${line.id}">${line.text}</code></pre>
<button type="button" class="secondary" data-copy="${line.id}" hidden aria-describedby="${line.id}-note">Copy</button>
<p class="note" id="${line.id}-note">${line.note}</p>
</div>
`;
}

/** A time as `YYYY-MM-DD HH:MM UTC` in a `<time>` element. */
export function dateTime(ms: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}
