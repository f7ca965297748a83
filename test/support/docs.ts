/**
 * Reads examples out of the documentation, so tests can check that every
 * example on a page does what the page says.
 */
import { readFile } from 'node:fs/promises';

/** The section of `docs/<page>` under `## <heading>`, up to the next `## ` heading; throws when missing. */
export async function docsSection(page: string, heading: string): Promise<string> {
  const text = await readFile(new URL(`../../docs/${page}`, import.meta.url), 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new RangeError(`docs/${page} has no section "## ${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The contents of the ```yaml blocks in `markdown`, in order. */
export function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
}
