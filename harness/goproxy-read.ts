import { readFile, stat } from 'node:fs/promises';

/** The versions in a GOPROXY folder's `@v/list` file, or undefined when there is none. */
export async function readList(listPath: string): Promise<string[] | undefined> {
  const text = await readFile(listPath, 'utf8').catch(() => undefined);
  return text?.split('\n').filter((v) => v.trim() !== '');
}

export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}
