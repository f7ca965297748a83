import { html, type SafeHtml } from '../html.ts';
import { type Frame, layout, PAGE_PATHS } from './layout.ts';

/**
 * A page with one message: a refusal or failure (its one-line reason, and
 * the request id for server errors so an operator can find the log entry),
 * or a plain notice such as "signed out".
 */
export function messagePage(
  frame: Frame,
  message: { reason: string; kind: 'error' | 'notice'; requestId?: string | undefined; retry?: boolean },
): SafeHtml {
  return layout(
    frame,
    html`<p class="${message.kind}" id="reason"${message.kind === 'error' ? html` role="alert"` : null}>${message.reason}</p>
${message.requestId ? html`<p class="note">Request id: <code>${message.requestId}</code></p>` : null}
${message.retry ? html`<p><a href="${PAGE_PATHS.login}">Sign in</a></p>` : null}`,
  );
}
