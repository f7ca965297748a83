import type { TokenRecord } from '../../../../auth/pat/token-registry.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, type Frame, layout, PAGE_PATHS } from './layout.ts';
import { dateTime } from './setup.ts';

/** How a token was minted, in words. */
const VIA: Readonly<Record<TokenRecord['via'], string>> = {
  web: 'this page',
  device: 'modgate login',
};

/** "My tokens": the signed-in user's unexpired tokens, each with a revoke button. */
export function tokensPage(
  frame: Frame,
  view: { tokens: readonly TokenRecord[]; csrf: string; notice?: string | undefined },
): SafeHtml {
  const notice = view.notice ? html`<p role="status" id="notice">${view.notice}</p>` : null;
  if (view.tokens.length === 0) {
    return layout(
      frame,
      html`${notice}<p>You have no tokens. <a href="${PAGE_PATHS.setup}">Create one on the set-up page.</a></p>`,
    );
  }
  return layout(
    frame,
    html`${notice}
<table id="tokens">
<caption class="note">Your personal tokens, newest first. Revoking one stops it at once.</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Created with</th><th scope="col"><span class="note">Action</span></th></tr></thead>
<tbody>
${view.tokens.map((t) => row(t, view.csrf))}</tbody>
</table>`,
  );
}

function row(t: TokenRecord, csrf: string): SafeHtml {
  return html`<tr data-jti="${t.jti}">
<td>${t.name}</td><td>${dateTime(t.issuedAtMs)}</td><td>${dateTime(t.expiresAtMs)}</td><td>${VIA[t.via]}</td>
<td><form class="inline" method="post" action="${PAGE_PATHS.revoke}">
${csrfField(csrf)}<input type="hidden" name="jti" value="${t.jti}">
<button type="submit" class="danger" aria-label="Revoke ${t.name}">Revoke</button>
</form></td>
</tr>
`;
}
