import { CSRF_FIELD } from '../csrf.ts';
import { html, SafeHtml } from '../html.ts';

/** What every page's frame needs; `session` adds the navigation and the sign-out form. */
export interface Frame {
  readonly title: string;
  /** The CSP nonce of this response (respond.ts). */
  readonly nonce: string;
  readonly session?: { readonly user: string; readonly csrf: string } | undefined;
}

/** Paths of the pages, for links and redirects. */
export const PAGE_PATHS = {
  login: '/login',
  callback: '/login/callback',
  setup: '/setup',
  mint: '/setup/token',
  tokens: '/tokens',
  revoke: '/tokens/revoke',
  logout: '/logout',
} as const;

/** Colours meet WCAG 2.1 AA contrast (4.5:1 for text) on the white background. */
const STYLE = `
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; background: #fff; margin: 0; }
header, main, footer { max-width: 52rem; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; border-bottom: 1px solid #c8c8c8; }
header .brand { font-weight: 700; margin-right: auto; }
nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
a { color: #0b4fa8; }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
button { font: inherit; color: #fff; background: #0b4fa8; border: 0; border-radius: 4px; padding: .4rem .9rem; cursor: pointer; }
button.secondary { color: #0b4fa8; background: #fff; border: 1px solid #0b4fa8; }
button.danger { background: #a4262c; }
form.inline { display: inline; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input[type=text] { font: inherit; padding: .35rem; border: 1px solid #6b6b6b; border-radius: 4px; min-width: 16rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #c8c8c8; vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: .9rem; }
.line { margin: .75rem 0; }
.line pre { background: #f3f3f3; border: 1px solid #c8c8c8; border-radius: 4px; padding: .5rem; margin: 0 0 .25rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.note { color: #4a4a4a; margin: 0; font-size: .9rem; }
.warning { border-left: 4px solid #b35c00; background: #fff4e5; padding: .5rem 1rem; }
.error { border-left: 4px solid #a4262c; background: #fdecea; padding: .5rem 1rem; }
.tag { display: inline-block; border: 1px solid #6b6b6b; border-radius: 3px; padding: 0 .35rem; font-size: .85rem; }
`;

/**
 * Copy buttons: shown only when this script runs (the page works without it:
 * every line is plain selectable text); the result is announced in a live region.
 */
const COPY_SCRIPT = `
const status = document.getElementById('copy-status');
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = 'Copied to the clipboard.';
    } catch {
      status.textContent = 'Could not copy; select the line and copy it by hand.';
    }
  });
}
`;

/** A complete page: language, title, the frame and `body` inside `<main>`. */
export function layout(frame: Frame, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · modgate</title>
<style nonce="${frame.nonce}">${STYLE_HTML}</style>
</head>
<body>
<header>
<p class="brand">modgate</p>
${frame.session ? navigation(frame.session) : null}
</header>
<main>
<h1>${frame.title}</h1>
${body}
<p id="copy-status" role="status" class="note"></p>
</main>
<script nonce="${frame.nonce}">${SCRIPT_HTML}</script>
</body>
</html>
`;
}

/** The hidden field every state-changing form carries. */
export function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">`;
}

function navigation(session: { user: string; csrf: string }): SafeHtml {
  return html`<nav aria-label="Pages">
<ul>
<li><a href="${PAGE_PATHS.setup}">Set me up</a></li>
<li><a href="${PAGE_PATHS.tokens}">My tokens</a></li>
</ul>
</nav>
<form class="inline" method="post" action="${PAGE_PATHS.logout}">
${csrfField(session.csrf)}
<button type="submit" class="secondary">Sign out ${session.user}</button>
</form>`;
}

// Constant text of our own (no `<` sequences that end the element), inserted verbatim.
const STYLE_HTML = rawConstant(STYLE);
const SCRIPT_HTML = rawConstant(COPY_SCRIPT);

function rawConstant(text: string): SafeHtml {
  if (text.includes('</')) throw new TypeError('inline style or script must not contain "</"');
  return new SafeHtml(text);
}
